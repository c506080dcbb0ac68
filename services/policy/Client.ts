import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import { Context, Effect, Layer } from "effect"
import { ServiceTokens, withServiceToken } from "../../shared/auth/ServiceTokens.js"
import type { Decision } from "../../shared/domain/Scan.js"
import { callFailed, retagErrors, type UpstreamError } from "../../shared/http/Upstream.js"
import { type DecisionRequest, PolicyApi } from "./Api.js"
import { Policy } from "./Policy.js"

/** What the gateway needs from policy; the same interface in-process and over HTTP. */
export interface PolicyCalls {
  readonly decide: (req: DecisionRequest) => Effect.Effect<Decision, UpstreamError>
}

export class PolicyClient extends Context.Tag("brandme/PolicyClient")<PolicyClient, PolicyCalls>() {
  static readonly InProcess = Layer.effect(
    PolicyClient,
    Effect.map(Policy, (policy) => ({ decide: (req) => policy.decide(req) }))
  ).pipe(Layer.provide(Policy.Default))

  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      PolicyClient,
      Effect.flatMap(ServiceTokens, (tokens) =>
        Effect.map(
          HttpApiClient.make(PolicyApi, {
            baseUrl,
            // the gateway's service token for policy on every call (shared/auth/ServiceTokens.ts)
            transformClient: (c) => withServiceToken(tokens, "gateway", "policy")(retagErrors(c))
          }),
          (client) => ({
            decide: (req) =>
              client.internal
                .decide({ payload: req })
                .pipe(Effect.catchTags(callFailed("policy")), Effect.withSpan("PolicyClient.decide"))
          })
        )
      )
    ).pipe(Layer.provide(FetchHttpClient.layer))
}
