import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, Schema } from "effect"
import { isRecord } from "../Guards.js"

/**
 * A call to brain, policy or knowledge failed below the contract (connection refused, timeout,
 * a body that does not decode). The gateway answers 502 naming the service; internals stay out.
 */
export class UpstreamError extends Schema.TaggedError<UpstreamError>()(
  "UpstreamError",
  { message: Schema.String, details: Schema.Struct({ service: Schema.String }) },
  HttpApiSchema.annotations({ status: 502 })
) {}

/** `catchTags` handlers turning HttpApiClient transport/decode failures into one UpstreamError. */
export const callFailed = (service: string) => {
  const up = () =>
    Effect.fail(new UpstreamError({ message: `${service} did not answer properly`, details: { service } }))
  return { RequestError: up, ResponseError: up, ParseError: up, HttpApiDecodeError: up } as const
}

/**
 * Every service answers errors as `{ error, message, details? }` (shared/http/Errors.ts reshapes them),
 * while a typed HttpApiClient decodes domain errors by `_tag`. This puts the tag back on 4xx/5xx bodies
 * so the caller gets the callee's own typed error (a 403 IntentNotAllowed stays a 403, not a 502).
 */
export const retagErrors = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transformResponse(
    client,
    Effect.flatMap((res) =>
      res.status < 400
        ? Effect.succeed(res)
        : Effect.map(
            Effect.orElseSucceed(res.text, () => ""),
            (text) => {
              let body: unknown
              try {
                body = JSON.parse(text)
              } catch {
                body = undefined
              }
              const retagged =
                isRecord(body) && typeof body.error === "string" && !("_tag" in body)
                  ? JSON.stringify({ ...body, _tag: body.error })
                  : text
              return HttpClientResponse.fromWeb(
                res.request,
                new Response(retagged, { status: res.status, headers: { "content-type": "application/json" } })
              )
            }
          )
    )
  )
