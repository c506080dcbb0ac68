import type { IncomingMessage, ServerResponse } from "node:http"
import * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Effect, Either, Option, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Metrics, type ServiceMetrics } from "../telemetry/Metrics.js"
import { type ErrorBody, errorResponse, toErrorBody } from "./Errors.js"
import { corsHeaders, requestIdOf, securityHeaders } from "./Hardening.js"
import { RateLimited, rateLimitedResponse } from "./RateLimit.js"
import { checkJsonBody, unsupportedMediaType } from "./Validation.js"

/**
 * What a front lane (a plain node:http handler in front of the router, see `HttpFrontLane` in Server.ts)
 * takes from the platform instead of repeating it: the route and the error statuses of its contract
 * endpoint (the statuses are the error classes' own annotations, read from the contract), the error
 * bodies (Errors.ts), the body-size limit and JSON checks, the request id, the security and CORS headers
 * and the RED metrics — the same helpers the router's pipeline uses.
 */

/** A node:http request header's value (the first, should it come as a list). */
export const headerValue = (v: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof v === "string" ? v : v?.[0]

/** The 413 of a body over HTTP_MAX_BODY_BYTES (declared in Content-Length, or found while reading). */
export const payloadTooLarge = (maxBody: number, declared?: number): ErrorBody => ({
  error: "PayloadTooLarge",
  message:
    declared === undefined
      ? `request body exceeds the limit of ${maxBody} bytes`
      : `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`
})

/** The RED metrics of one service's requests, label sets built once (the hot path records three per request). */
export const requestMetrics = ({ m, service }: ServiceMetrics) => {
  const inFlight = { service }
  const routes = new Map<string, (status: number, t0: number) => void>()
  /** the recorder of one route's answers (a lane keeps its own; the pipeline looks it up per request) */
  const forRoute = (route: string, method: string) => {
    const k = `${method} ${route}`
    let finished = routes.get(k)
    if (finished === undefined) {
      const duration = { service, route, method }
      const byStatus = new Map<number, Record<string, string>>()
      finished = (status, t0) => {
        let total = byStatus.get(status)
        if (total === undefined) {
          total = { ...duration, status: String(status) }
          byStatus.set(status, total)
        }
        m.httpRequestsInFlight.dec(inFlight)
        m.httpRequestsTotal.inc(total)
        m.httpRequestDuration.observe(duration, (performance.now() - t0) / 1000)
      }
      routes.set(k, finished)
    }
    return finished
  }
  return {
    started: () => m.httpRequestsInFlight.inc(inFlight),
    forRoute,
    finished: (route: string, method: string, status: number, t0: number) => forRoute(route, method)(status, t0)
  }
}

/** The headers every answer carries: security headers, CORS for an allowed Origin, the request id. */
export const answerHeaders = (
  tls: boolean,
  corsOrigins: ReadonlyArray<string>,
  contentType: string | undefined,
  existing: Readonly<Record<string, string>>,
  origin: string | undefined,
  requestId: string
): Record<string, string> => ({
  ...securityHeaders(tls, contentType, existing),
  ...corsHeaders(origin, corsOrigins),
  "x-request-id": requestId
})

/** The declared errors of one contract endpoint by status (the error classes' annotations), as the router encodes them. */
const contractErrors = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  group: string,
  endpoint: string
) => {
  let route: { readonly method: string; readonly path: string } | undefined
  const errors: Array<{
    readonly status: number
    readonly is: (u: unknown) => boolean
    readonly encode: (u: unknown) => Either.Either<unknown, unknown>
  }> = []
  HttpApi.reflect(api, {
    onGroup: () => {},
    onEndpoint: (o) => {
      if (o.group.identifier !== group || o.endpoint.name !== endpoint) return
      route = { method: o.endpoint.method, path: o.endpoint.path }
      for (const [status, { ast }] of o.errors) {
        if (Option.isNone(ast)) continue
        const schema = Schema.make(ast.value)
        errors.push({ status, is: Schema.is(schema), encode: Schema.encodeUnknownEither(schema) })
      }
    }
  })
  if (route === undefined) throw new Error(`the contract has no endpoint ${group}.${endpoint}`)
  return { route, errors }
}

/** What one request of a lane carries from its start to its answer. */
export interface LaneRequest {
  readonly t0: number
  readonly requestId: string
  readonly origin: string | undefined
}

/**
 * A front lane serving one endpoint of a contract: `matches` claims its requests, `begin` starts one
 * (request id, in-flight metric), `send*` answer it (headers and metrics as the router's pipeline),
 * `fail` answers an error with the status its class declares in the contract and the platform's body.
 */
export const makeFrontLane = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  group: HttpApiGroup.HttpApiGroup.Name<Groups>,
  endpoint: string
) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const metrics = requestMetrics(yield* Metrics)
    const { route, errors } = contractErrors(api, group, endpoint)
    const tls = config.appEnv !== "development"
    const corsOrigins = config.http.corsOrigins
    const maxBody = config.http.maxBodyBytes
    const maxDepth = config.http.maxJsonDepth
    // the lane answers JSON only: its security headers are fixed
    const jsonHeaders = securityHeaders(tls, "application/json")
    const prefix = `${route.path}?`

    const matches = (req: IncomingMessage): boolean => {
      if (req.method !== route.method) return false
      const url = req.url ?? ""
      return url === route.path || url.startsWith(prefix)
    }

    const begin = (req: IncomingMessage): LaneRequest => {
      metrics.started()
      return { t0: performance.now(), requestId: requestIdOf(req.headers["x-request-id"]), origin: req.headers.origin }
    }

    const finished = metrics.forRoute(route.path, route.method)
    const done = (r: LaneRequest, status: number) => finished(status, r.t0)

    /**
     * A JSON answer (the success path: its text is written as it is). `bytes`: its UTF-8 length when the caller
     * knows it (a cached answer's), so a 1–2 KB text is not walked again to count it.
     */
    const sendJson = (res: ServerResponse, r: LaneRequest, status: number, text: string, bytes?: number) => {
      const headers: Record<string, string | number> = {
        ...jsonHeaders,
        ...corsHeaders(r.origin, corsOrigins),
        "content-type": "application/json",
        "content-length": bytes ?? Buffer.byteLength(text),
        "x-request-id": r.requestId
      }
      res.writeHead(status, headers)
      res.end(text)
      done(r, status)
    }

    /** an answer built as the router builds it (`errorResponse`, `rateLimitedResponse`): a JSON body and its headers */
    const sendResponse = (res: ServerResponse, r: LaneRequest, response: HttpServerResponse.HttpServerResponse) => {
      const body = response.body._tag === "Uint8Array" ? response.body.body : new Uint8Array()
      const contentType = response.body._tag === "Uint8Array" ? response.body.contentType : undefined
      res.writeHead(response.status, {
        ...response.headers,
        ...answerHeaders(tls, corsOrigins, contentType, response.headers, r.origin, r.requestId),
        ...(contentType !== undefined ? { "content-type": contentType } : {}),
        "content-length": body.byteLength
      })
      res.end(body)
      done(r, response.status)
    }

    const sendError = (res: ServerResponse, r: LaneRequest, status: number, body: ErrorBody) =>
      sendResponse(res, r, errorResponse(status, body))

    const internal = (r: LaneRequest): ErrorBody => ({
      error: "InternalServerError",
      message: `internal error (request id ${r.requestId})`
    })

    /** an error of the endpoint: its declared status and body; a 429 with Retry-After; anything else a 500 */
    const fail = (res: ServerResponse, r: LaneRequest, error: unknown) => {
      if (error instanceof RateLimited) return sendResponse(res, r, rateLimitedResponse(error))
      for (const e of errors) {
        if (!e.is(error)) continue
        const encoded = e.encode(error)
        if (Either.isRight(encoded)) return sendError(res, r, e.status, toErrorBody(e.status, encoded.right, ""))
      }
      Effect.runFork(Effect.logError("request failed with an error its contract does not declare", error))
      return sendError(res, r, 500, internal(r))
    }

    /** a failed effect's answer: its error as `fail` answers it, a defect as a 500 (logged) */
    const failCause = (res: ServerResponse, r: LaneRequest, cause: Cause.Cause<unknown>) => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) return fail(res, r, failure.value)
      Effect.runFork(Effect.logError("request failed", cause))
      return sendError(res, r, 500, internal(r))
    }

    /**
     * Reads the body (HTTP_MAX_BODY_BYTES), checks it (depth, NUL: Validation.ts) and parses it; a body that
     * fails any of these goes to `refuse` with the platform's 413/400, a parsed one to `parsed`.
     */
    const readJson = (
      req: IncomingMessage,
      refuse: (status: number, body: ErrorBody) => void,
      parsed: (json: unknown) => void
    ) => {
      const declared = Number(req.headers["content-length"] ?? "0")
      if (Number.isFinite(declared) && declared > maxBody) {
        req.resume()
        return refuse(413, payloadTooLarge(maxBody, declared))
      }
      const chunks: Array<Buffer> = []
      let size = 0
      let aborted = false
      req.on("data", (c: Buffer) => {
        if (aborted) return
        size += c.length
        if (size > maxBody) {
          aborted = true
          refuse(413, payloadTooLarge(maxBody))
          return
        }
        chunks.push(c)
      })
      req.on("error", () => {
        aborted = true
      })
      req.on("end", () => {
        if (aborted) return
        // a small body arrives in one chunk: decoded as it is, not copied into a new buffer first
        const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")
        const media = text === "" ? undefined : unsupportedMediaType(req.headers["content-type"])
        if (media !== undefined) return refuse(415, media)
        const checked = checkJsonBody(text, maxDepth)
        if (Either.isLeft(checked)) return refuse(400, checked.left)
        // undefined: an empty body, which is not JSON either
        if (checked.right !== undefined) return parsed(checked.right)
        return refuse(400, { error: "BadRequest", message: "request body is not valid JSON: it is empty" })
      })
    }

    return { route, matches, begin, sendJson, sendResponse, sendError, fail, failCause, readJson }
  })
