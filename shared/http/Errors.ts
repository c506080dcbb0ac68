import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type RawIssue, validationBody } from "./Validation.js"
import { isRecord } from "../Guards.js"

/**
 * Every 4xx/5xx the platform sends is JSON `{ error, message, details? }`. Domain errors
 * (Schema.TaggedError with an HTTP status) pass through unchanged and are reshaped here once,
 * at the edge; so are the framework's own answers (decode errors, unknown routes, oversize bodies).
 */
export interface ErrorBody {
  readonly error: string
  readonly message: string
  readonly details?: unknown
}

const statusNames: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  413: "PayloadTooLarge",
  415: "UnsupportedMediaType",
  422: "UnprocessableEntity",
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout"
}

export const statusName = (status: number): string =>
  statusNames[status] ?? (status >= 500 ? "ServerError" : "ClientError")

const decoder = new TextDecoder()

const isRawIssue = (u: unknown): u is RawIssue =>
  isRecord(u) &&
  typeof u.message === "string" &&
  Array.isArray(u.path) &&
  u.path.every((p) => typeof p === "string" || typeof p === "number")

/** Reshapes a decoded error payload; `fallback` is used when the body says nothing useful. */
export const toErrorBody = (status: number, payload: unknown, fallback: string): ErrorBody => {
  if (!isRecord(payload)) return { error: statusName(status), message: fallback }
  if (typeof payload.error === "string" && typeof payload.message === "string") {
    return payload.details === undefined
      ? { error: payload.error, message: payload.message }
      : { error: payload.error, message: payload.message, details: payload.details }
  }
  if (payload._tag === "HttpApiDecodeError" && Array.isArray(payload.issues)) {
    // the framework's decode error carries a tree dump with the input in it: rebuilt from its issues
    return validationBody(payload.issues.filter(isRawIssue))
  }
  const { _tag, message, ...rest } = payload
  const error = _tag === "HttpApiDecodeError" ? "ValidationError" : typeof _tag === "string" ? _tag : statusName(status)
  const text = typeof message === "string" && message !== "" ? message : fallback
  const details = "details" in rest && Object.keys(rest).length === 1 ? rest.details : rest
  return Object.keys(rest).length === 0 ? { error, message: text } : { error, message: text, details }
}

export const errorResponse = (status: number, body: ErrorBody, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(body, { status, ...(headers !== undefined ? { headers } : {}) })

/** Turns any error response into the platform's JSON shape. 5xx messages never leak internals. */
export const normalizeErrorResponse = (
  response: HttpServerResponse.HttpServerResponse,
  context: { readonly method: string; readonly url: string; readonly requestId: string }
): HttpServerResponse.HttpServerResponse => {
  const status = response.status
  let payload: unknown
  if (response.body._tag === "Uint8Array") {
    try {
      payload = JSON.parse(decoder.decode(response.body.body))
    } catch {
      payload = undefined
    }
  }
  const fallback =
    status === 404
      ? `no route for ${context.method} ${context.url.split("?")[0]}`
      : status === 413
        ? "request body too large"
        : status >= 500
          ? `internal error (request id ${context.requestId})`
          : statusName(status)
  const body = toErrorBody(status, payload, fallback)
  const safe = status >= 500 && !isRecord(payload) ? { error: body.error, message: fallback } : body
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(response.headers)) {
    if (k !== "content-type" && k !== "content-length") headers[k] = v
  }
  return errorResponse(status, safe, headers)
}
