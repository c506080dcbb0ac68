import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AuthenticationLive, CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { ensureScanPathStream } from "../../shared/events/ScanPathFacts.js"
import { batchLane, batchServedByLane, serveBatch } from "../../shared/http/Batch.js"
import { type ConsentsApi, PolicyApi, PolicyInternalApi } from "./Api.js"
import { Policy } from "./Policy.js"

const traceparentOf = Effect.map(HttpServerRequest.HttpServerRequest, (r) => r.headers.traceparent)

type Handlers<Group extends HttpApiGroup.HttpApiGroup.Any, E, Provides, R> = HttpApiBuilder.Handlers<
  E | HttpApiGroup.HttpApiGroup.Error<Group>,
  Provides,
  R,
  HttpApiGroup.HttpApiGroup.Endpoints<Group>
>

/**
 * The consents group's handlers as a group builder: policy mounts them on its own API and the
 * gateway mounts the same group on the public host (`HttpApiBuilder.group(GatewayApi, "consents", consentsHandlers)`).
 */
export const consentsHandlers = <E, Provides, R>(h: Handlers<typeof ConsentsApi, E, Provides, R>) =>
  Effect.map(Policy, (policy) =>
    h
      .handle("change", ({ payload }) =>
        Effect.gen(function* () {
          const p = yield* CurrentPrincipal
          return yield* policy.change(p, payload, yield* traceparentOf)
        })
      )
      .handle("list", () => Effect.flatMap(CurrentPrincipal, policy.list))
  )

/** the single call on the router; the batch endpoint on its lane (shared/http/Batch.ts `batchLane`) */
const InternalLive = Layer.merge(
  HttpApiBuilder.group(PolicyApi, "internal", (h) =>
    Effect.map(Policy, (policy) => h.handle("decide", ({ payload }) => policy.decide(payload)))
  ),
  batchServedByLane(PolicyApi)
)

/** Policy's logic with what its public group needs (Tokens) and the scan-path stream it publishes on. */
export const PolicyServicesLive = Layer.mergeAll(Policy.Default, TokensLive, Layer.effectDiscard(ensureScanPathStream))

export const PolicyHttpLive = serveService(
  "policy",
  PolicyApi,
  Layer.mergeAll(
    HttpApiBuilder.group(PolicyApi, "health", healthHandlers),
    HttpApiBuilder.group(PolicyApi, "consents", consentsHandlers).pipe(Layer.provide(AuthenticationLive)),
    InternalLive
  ).pipe(Layer.provide(PolicyServicesLive)),
  {
    lane: batchLane(
      "policy",
      PolicyApi,
      Effect.map(Policy, (policy) => serveBatch("policy", PolicyInternalApi, { decide: policy.decide }))
    ).pipe(Layer.provide(PolicyServicesLive))
  }
)
