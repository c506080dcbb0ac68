import type { Server } from "node:http"
import { randomUUID } from "node:crypto"

/**
 * What every answer of every service carries, and what every listener enforces, in one place: the
 * request id (validated before it is reflected), security headers, the CORS policy, and the slow-client
 * and per-client connection limits of the node:http server. The Effect pipeline (Server.ts) and a
 * front lane (Lane.ts: the gateway's scan lane) both use it.
 */

/** `x-request-id` is reflected and logged: only a short token of safe characters is kept, else a new one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
export const requestIdOf = (header: string | ReadonlyArray<string> | undefined): string =>
  typeof header === "string" && REQUEST_ID.test(header) ? header : randomUUID()

/** JSON answers load nothing; the API reference (/docs) is one self-contained page with inline script. */
const CSP_JSON = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
const CSP_HTML =
  "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/**
 * The security headers of an answer. HSTS only where the platform is served over TLS (staging and
 * production, behind the TLS ingress); a page that sets its own CSP keeps it (the console's auditor page).
 */
export const securityHeaders = (
  tls: boolean,
  contentType: string | undefined,
  existing: Readonly<Record<string, string>> = {}
): Record<string, string> => {
  const h: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-site"
  }
  if (existing["content-security-policy"] === undefined) {
    h["content-security-policy"] = contentType?.startsWith("text/html") === true ? CSP_HTML : CSP_JSON
  }
  if (tls) h["strict-transport-security"] = "max-age=31536000; includeSubDomains"
  return h
}

export const CORS_ALLOWED_HEADERS =
  "authorization, content-type, idempotency-key, x-api-key, x-request-id, x-region, traceparent"
export const CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"

/** CORS headers for a request's Origin: only an origin on the list (HTTP_CORS_ORIGINS) is named back. */
export const corsHeaders = (
  origin: string | undefined,
  allowed: ReadonlyArray<string>
): Record<string, string> | undefined =>
  origin !== undefined && allowed.includes(origin)
    ? {
        "access-control-allow-origin": origin,
        "access-control-expose-headers": "retry-after, x-request-id",
        vary: "Origin"
      }
    : undefined

/** The answer to a CORS preflight: 204 with the policy for an allowed origin, 403 otherwise. */
export const preflight = (
  origin: string | undefined,
  allowed: ReadonlyArray<string>
): { readonly status: 204 | 403; readonly headers: Record<string, string> } => {
  const cors = corsHeaders(origin, allowed)
  return cors === undefined
    ? { status: 403, headers: { vary: "Origin" } }
    : {
        status: 204,
        headers: {
          ...cors,
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": CORS_ALLOWED_HEADERS,
          "access-control-max-age": "600"
        }
      }
}

export interface ListenerLimits {
  /** the whole request head must arrive within this (HTTP_HEADERS_TIMEOUT_MS) */
  readonly headersTimeoutMs: number
  /** head and body within this, else 408 (HTTP_REQUEST_TIMEOUT_MS) */
  readonly requestTimeoutMs: number
  /** open connections one socket peer may hold (HTTP_MAX_CONNECTIONS_PER_CLIENT) */
  readonly maxConnectionsPerClient: number
  /**
   * HTTP_TRUSTED_PROXY_HOPS: behind a proxy of ours every connection comes from the proxy, so the
   * per-peer cap would throttle it — the ingress limits connections per client there instead.
   */
  readonly trustedProxyHops: number
}

/** How often node checks the request timeouts: a trickled body ends in 408 within this of its deadline. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000

/** Slow-client timeouts and the per-peer connection cap on a node:http server. */
export const limitListener = (server: Server, limits: ListenerLimits): void => {
  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs
  if (limits.trustedProxyHops > 0) return
  const open = new Map<string, number>()
  server.on("connection", (socket) => {
    const peer = socket.remoteAddress ?? "unknown"
    const n = (open.get(peer) ?? 0) + 1
    if (n > limits.maxConnectionsPerClient) {
      socket.destroy()
      return
    }
    open.set(peer, n)
    socket.once("close", () => {
      const left = (open.get(peer) ?? 1) - 1
      if (left <= 0) open.delete(peer)
      else open.set(peer, left)
    })
  })
}
