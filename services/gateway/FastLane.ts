import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { Cause, Effect, Either, Exit, Layer, Option, ParseResult, Runtime, Schema } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import type { ErrorBody } from "../../shared/http/Errors.js"
import { HttpFrontLane } from "../../shared/http/Server.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { ScanHeaders, ScanRequest } from "./Api.js"
import { Scans } from "./Scans.js"

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
const decodeHeaders = Schema.decodeUnknownEither(ScanHeaders)
const ROUTE = "/v1/scans"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * `POST /v1/scans` straight on node:http: read the body (size-limited), decode it with the contract's
 * schema, run `Scans.scan` on the layer's runtime, answer JSON. Errors have the platform's shape
 * `{ error, message, details? }`; validation failures name the field.
 */
export const ScanFastLaneLive = Layer.effect(
  HttpFrontLane,
  Effect.gen(function* () {
    const scans = yield* Scans
    const config = yield* AppConfig
    const { m } = yield* Metrics
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runPromiseExit(runtime)
    const maxBody = config.http.maxBodyBytes

    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const t0 = performance.now()
      const rid = req.headers["x-request-id"]
      const requestId = typeof rid === "string" && rid !== "" ? rid : randomUUID()
      m.httpRequestsInFlight.inc({ service: "gateway" })
      const send = (status: number, body: unknown) => sendText(status, JSON.stringify(body))
      const sendText = (status: number, text: string) => {
        res.writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
          "x-request-id": requestId
        })
        res.end(text)
        m.httpRequestsInFlight.dec({ service: "gateway" })
        m.httpRequestsTotal.inc({ service: "gateway", route: ROUTE, method: "POST", status: String(status) })
        m.httpRequestDuration.observe(
          { service: "gateway", route: ROUTE, method: "POST" },
          (performance.now() - t0) / 1000
        )
      }
      const fail = (status: number, body: ErrorBody) => send(status, body)
      const sendError = (e: { readonly _tag?: unknown; readonly message?: unknown; readonly details?: unknown }) => {
        const tag = typeof e._tag === "string" ? e._tag : "Error"
        const status = STATUS[tag] ?? 500
        const message =
          status === 500 ? `internal error (request id ${requestId})` : typeof e.message === "string" ? e.message : tag
        return fail(
          status,
          e.details === undefined || status === 500
            ? { error: tag, message }
            : { error: tag, message, details: e.details }
        )
      }
      const declared = Number(req.headers["content-length"] ?? "0")
      if (Number.isFinite(declared) && declared > maxBody) {
        req.resume()
        return fail(413, {
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
          fail(413, { error: "PayloadTooLarge", message: `request body exceeds the limit of ${maxBody} bytes` })
          return
        }
        chunks.push(c)
      })
      req.on("error", () => {
        aborted = true
      })
      req.on("end", () => {
        if (aborted) return
        let json: unknown
        try {
          json = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        } catch (e) {
          return fail(400, {
            error: "BadRequest",
            message: `request body is not valid JSON: ${e instanceof Error ? e.message : "parse error"}`
          })
        }
        const body = decodeRequest(json)
        if (Either.isLeft(body)) {
          return fail(400, { error: "ValidationError", message: ParseResult.TreeFormatter.formatErrorSync(body.left) })
        }
        const headers = decodeHeaders(req.headers)
        if (Either.isLeft(headers)) {
          return fail(400, {
            error: "ValidationError",
            message: ParseResult.TreeFormatter.formatErrorSync(headers.left)
          })
        }
        const h = headers.right
        const input = {
          request: body.right,
          authorization: h.authorization,
          idempotencyKey: h["idempotency-key"],
          xRegion: h["x-region"],
          traceparent: h.traceparent
        }
        const full = () =>
          run(scans.scan(input)).then((exit) => {
            if (Exit.isSuccess(exit)) return send(200, exit.value)
            const failure = Cause.failureOption(exit.cause)
            if (Option.isSome(failure) && isRecord(failure.value)) return sendError(failure.value)
            Effect.runFork(Effect.logError("scan failed", exit.cause))
            return fail(500, { error: "InternalServerError", message: `internal error (request id ${requestId})` })
          })
        const fast = scans.warm(input, t0)
        if (fast === "miss") return void full()
        fast.then((r) => (r === "miss" ? full() : typeof r === "string" ? sendText(200, r) : sendError(r)))
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
