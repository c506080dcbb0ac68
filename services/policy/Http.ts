import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { requirePrincipal } from "../../shared/auth/Authenticate.js"
import { ensureScanPathStream } from "../gateway/Events.js"
import { PolicyApi } from "./Api.js"
import { Policy } from "./Policy.js"

const traceparentOf = Effect.map(HttpServerRequest.HttpServerRequest, (r) => r.headers.traceparent)

const ConsentsLive = HttpApiBuilder.group(PolicyApi, "consents", (h) =>
  Effect.map(Policy, (policy) =>
    h
      .handle("change", ({ headers, payload }) =>
        Effect.gen(function* () {
          const p = yield* requirePrincipal(headers.authorization)
          return yield* policy.change(p, payload, yield* traceparentOf)
        })
      )
      .handle("list", ({ headers }) => Effect.flatMap(requirePrincipal(headers.authorization), policy.list))
  )
)

const InternalLive = HttpApiBuilder.group(PolicyApi, "internal", (h) =>
  Effect.map(Policy, (policy) => h.handle("decide", ({ payload }) => policy.decide(payload)))
)

export const PolicyHttpLive = serveService(
  "policy",
  PolicyApi,
  Layer.mergeAll(HttpApiBuilder.group(PolicyApi, "health", healthHandlers), ConsentsLive, InternalLive).pipe(
    Layer.provide(Policy.Default),
    Layer.provide(TokensLive),
    Layer.provide(Layer.effectDiscard(ensureScanPathStream))
  )
)
