import type { IncomingMessage } from "node:http"
import type { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"

/**
 * Which hop of a request we trust: the ONE place that decides how far `X-Forwarded-For` (and any
 * header our proxies set, e.g. a geo header) is believed. `hops` is HTTP_TRUSTED_PROXY_HOPS: how many
 * proxies of ours append to `X-Forwarded-For` (the stacks set the number of their ingress hops; the
 * default 0 — local, compose — trusts only the socket peer, so a client cannot pick its own address).
 *
 * - hops = 0: the socket peer; headers set by "proxies" are the client's own → `viaTrustedProxy` false.
 * - hops = n > 0 and the header has ≥ n entries: the address our outermost proxy saw (n from the right);
 *   entries further left are client-supplied. `viaTrustedProxy` true: headers our proxies set are theirs.
 * - hops = n > 0 but fewer entries (a request that bypassed the proxies): the socket peer, not trusted.
 */
export interface ClientHop {
  /** the client's address as far as we can trust it ("unknown" when the socket has none) */
  readonly address: string
  /** true when the request came through our trusted proxies (headers they set can be believed) */
  readonly viaTrustedProxy: boolean
}

export type HopRequest = HttpServerRequest.HttpServerRequest | IncomingMessage

const firstHeader = (v: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof v === "string" ? v : v?.join(",")

/** From the raw parts: the X-Forwarded-For value and the socket peer. */
export const clientHopOf = (
  forwarded: string | ReadonlyArray<string> | undefined,
  remoteAddress: string | undefined,
  hops: number
): ClientHop => {
  const peer = { address: remoteAddress ?? "unknown", viaTrustedProxy: false }
  const header = firstHeader(forwarded)
  if (hops <= 0 || header === undefined || header === "") return peer
  const entries = header
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "")
  const seen = entries[entries.length - hops]
  return seen === undefined ? peer : { address: seen, viaTrustedProxy: true }
}

/** The trusted hop of a request, from the Effect router's request or a plain node:http one. */
export const trustedClientHop = (req: HopRequest, hops: number): ClientHop =>
  "socket" in req
    ? clientHopOf(req.headers["x-forwarded-for"], req.socket.remoteAddress, hops)
    : clientHopOf(req.headers["x-forwarded-for"], Option.getOrUndefined(req.remoteAddress), hops)
