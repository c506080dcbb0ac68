import type { IncomingMessage, ServerResponse } from "node:http"
import { Cause, Effect, Either, Exit, Layer, Option, Runtime, Schema } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import type { ErrorBody } from "../../shared/http/Errors.js"
import { trustedClientHop } from "../../shared/http/ClientHop.js"
import { corsHeaders, requestIdOf, securityHeaders } from "../../shared/http/Hardening.js"
import { checkJsonBody, parseErrorBody } from "../../shared/http/Validation.js"
import { RateLimited, type RateLimitDecision } from "../../shared/http/RateLimit.js"
import { HttpFrontLane } from "../../shared/http/Server.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { ScanHeaders, ScanRequest } from "./Api.js"
import { PublicLimits } from "./Limits.js"
import { trustedGeoRegion } from "./Region.js"
import { Scans } from "./Scans.js"
import { isRecord } from "../../shared/Guards.js"

/** HTTP status of each error the scan contract declares (Api.ts); anything else is a 500. */
const STATUS: Readonly<Record<string, number>> = {
  InvalidTag: 422,
  Unauthorized: 401,
  Forbidden: 403,
  IntentNotAllowed: 403,
  GarmentNotFound: 404,
  IdempotencyConflict: 409,
  UpstreamError: 502,
  QueueUnavailable: 503
}

const decodeRequest = Schema.decodeUnknownEither(ScanRequest)
const header = (v: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof v === "string" ? v : v?.[0]
const decodeHeaders = Schema.decodeUnknownEither(ScanHeaders)
const ROUTE = "/v1/scans"

const isDecision = (u: unknown): u is RateLimitDecision => isRecord(u) && typeof u.allowed === "boolean"

/**
 * `POST /v1/scans` straight on node:http: read the body (size-limited), decode it with the contract's
 * schema, pass the public rate limits (per IP; per client for a token or API key), run `Scans.scan` on
 * the layer's runtime, answer JSON. Errors have the platform's shape `{ error, message, details? }`;
 * validation failures name the field; a refusal is a 429 with `Retry-After` naming the limit.
 * Anonymous scans take the warm lane, which checks their limit in the round trip it reads with.
 */
export const ScanFastLaneLive = Layer.effect(
  HttpFrontLane,
  Effect.gen(function* () {
    const scans = yield* Scans
    const limits = yield* PublicLimits
    const config = yield* AppConfig
    const { m } = yield* Metrics
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runPromiseExit(runtime)
    const maxBody = config.http.maxBodyBytes
    const maxDepth = config.http.maxJsonDepth
    // the answers' fixed headers (security headers: the lane answers JSON only)
    const fixedHeaders = securityHeaders(config.appEnv !== "development", "application/json")
    const corsOrigins = config.http.corsOrigins
    const geoHeader = config.privacy.geoRegionHeader

    // label sets built once: the hot path records four metrics per request
    const gateway = { service: "gateway" } as const
    const route = { service: "gateway", route: ROUTE, method: "POST" } as const
    const byStatus = new Map<number, Record<string, string>>()
    const totalLabels = (status: number) => {
      let l = byStatus.get(status)
      if (l === undefined) {
        l = { ...route, status: String(status) }
        byStatus.set(status, l)
      }
      return l
    }

    // the answers, outside the per-request closure (fewer allocations per request)
    const sendText = (
      res: ServerResponse,
      requestId: string,
      t0: number,
      status: number,
      text: string,
      retry?: number
    ) => {
      const headers: Record<string, string | number> = {
        ...fixedHeaders,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        "x-request-id": requestId
      }
      if (retry !== undefined) headers["retry-after"] = String(retry)
      res.writeHead(status, headers)
      res.end(text)
      m.httpRequestsInFlight.dec(gateway)
      m.httpRequestsTotal.inc(totalLabels(status))
      m.httpRequestDuration.observe(route, (performance.now() - t0) / 1000)
    }
    const fail = (res: ServerResponse, requestId: string, t0: number, status: number, body: ErrorBody) =>
      sendText(res, requestId, t0, status, JSON.stringify(body))
    const sendLimited = (res: ServerResponse, requestId: string, t0: number, e: RateLimited) =>
      sendText(
        res,
        requestId,
        t0,
        429,
        JSON.stringify({
          error: "RateLimited",
          message: e.message,
          details: { limit: e.limit, retryAfterSeconds: e.retryAfterSeconds }
        } satisfies ErrorBody),
        e.retryAfterSeconds
      )
    const sendError = (
      res: ServerResponse,
      requestId: string,
      t0: number,
      e: { readonly _tag?: unknown; readonly message?: unknown; readonly details?: unknown }
    ) => {
      if (e instanceof RateLimited) return sendLimited(res, requestId, t0, e)
      const tag = typeof e._tag === "string" ? e._tag : "Error"
      const status = STATUS[tag] ?? 500
      const message =
        status === 500 ? `internal error (request id ${requestId})` : typeof e.message === "string" ? e.message : tag
      return fail(
        res,
        requestId,
        t0,
        status,
        e.details === undefined || status === 500
          ? { error: tag, message }
          : { error: tag, message, details: e.details }
      )
    }

    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const t0 = performance.now()
      const requestId = requestIdOf(req.headers["x-request-id"])
      // writeHead merges headers set before it: the CORS answer for an allowed Origin
      for (const [k, v] of Object.entries(corsHeaders(req.headers.origin, corsOrigins) ?? {})) res.setHeader(k, v)
      m.httpRequestsInFlight.inc(gateway)
      const ip = trustedClientHop(req, limits.trustedHops).address
      const apiKey = header(req.headers["x-api-key"])
      /** a malformed request still passes the limits first: garbage is no way around them */
      const refuse = (status: number, body: ErrorBody) =>
        void run(limits.enforce(ip, header(req.headers.authorization), apiKey, ROUTE)).then((exit) => {
          const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
          return Option.isSome(failure)
            ? sendError(res, requestId, t0, failure.value)
            : fail(res, requestId, t0, status, body)
        })
      const declared = Number(req.headers["content-length"] ?? "0")
      if (Number.isFinite(declared) && declared > maxBody) {
        req.resume()
        return refuse(413, {
          error: "PayloadTooLarge",
          message: `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`
        })
      }
      const chunks: Array<Buffer> = []
      let size = 0
      let aborted = false
      req.on("data", (c: Buffer) => {
        if (aborted) return
        size += c.length
        if (size > maxBody) {
          aborted = true
          refuse(413, { error: "PayloadTooLarge", message: `request body exceeds the limit of ${maxBody} bytes` })
          return
        }
        chunks.push(c)
      })
      req.on("error", () => {
        aborted = true
      })
      req.on("end", () => {
        if (aborted) return
        const text = Buffer.concat(chunks).toString("utf8")
        // too deep or holding a NUL: the same 400 as every other route (shared/http/Validation.ts)
        const checked = checkJsonBody(text, maxDepth)
        if (Either.isLeft(checked)) return refuse(400, checked.left)
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch (e) {
          return refuse(400, {
            error: "BadRequest",
            message: `request body is not valid JSON: ${e instanceof Error ? e.message : "parse error"}`
          })
        }
        const body = decodeRequest(json, { errors: "all" })
        if (Either.isLeft(body)) return refuse(400, parseErrorBody(body.left))
        const headers = decodeHeaders(req.headers)
        if (Either.isLeft(headers)) return refuse(400, parseErrorBody(headers.left))
        const h = headers.right
        const input = {
          request: body.right,
          authorization: h.authorization,
          idempotencyKey: h["idempotency-key"],
          geoRegion: trustedGeoRegion(req, limits.trustedHops, geoHeader),
          traceparent: h.traceparent
        }
        const full = (limited: boolean) =>
          run(
            limited
              ? Effect.zipRight(limits.enforce(ip, input.authorization, apiKey, ROUTE), scans.scan(input))
              : scans.scan(input)
          ).then((exit) => {
            if (Exit.isSuccess(exit)) return sendText(res, requestId, t0, 200, JSON.stringify(exit.value))
            const failure = Cause.failureOption(exit.cause)
            if (Option.isSome(failure) && isRecord(failure.value)) return sendError(res, requestId, t0, failure.value)
            Effect.runFork(Effect.logError("scan failed", exit.cause))
            return fail(res, requestId, t0, 500, {
              error: "InternalServerError",
              message: `internal error (request id ${requestId})`
            })
          })
        // a token or an API key names a client: its rules need the token verified, on the full path
        if (input.authorization !== undefined || apiKey !== undefined) return void full(true)
        scans
          .warm(input, t0, limits.anonymousRules(ip))
          .then((r) =>
            r === "miss"
              ? full(false)
              : typeof r === "string"
                ? sendText(res, requestId, t0, 200, r)
                : isDecision(r)
                  ? sendLimited(res, requestId, t0, limits.refused(r))
                  : sendError(res, requestId, t0, r)
          )
      })
    }

    return (req, res) => {
      if (req.method !== "POST") return false
      const url = req.url ?? ""
      if (url !== ROUTE && !url.startsWith(`${ROUTE}?`)) return false
      handle(req, res)
      return true
    }
  })
)
