import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import { Context, Effect, Layer } from "effect"
import { ServiceTokens, withServiceToken } from "../../shared/auth/ServiceTokens.js"
import type { Intent } from "../../shared/domain/Scan.js"
import { BrainApi, type IntentNotAllowed, type IntentRequest } from "./Api.js"
import { Brain } from "./Brain.js"
import { callFailed, retagErrors, type UpstreamError } from "../../shared/http/Upstream.js"

/** What the gateway needs from brain; the same interface in-process and over HTTP. */
export interface BrainCalls {
  readonly resolveIntent: (req: IntentRequest) => Effect.Effect<Intent, IntentNotAllowed | UpstreamError>
}

export class BrainClient extends Context.Tag("brandme/BrainClient")<BrainClient, BrainCalls>() {
  /** direct call into the Brain service in this process */
  static readonly InProcess = Layer.effect(
    BrainClient,
    Effect.map(Brain, (brain) => ({ resolveIntent: (req) => brain.resolveIntent(req) }))
  ).pipe(Layer.provide(Brain.Default))

  /** typed client derived from brain's Api.ts; traceparent rides along from the current span */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      BrainClient,
      Effect.flatMap(ServiceTokens, (tokens) =>
        Effect.map(
          HttpApiClient.make(BrainApi, {
            baseUrl,
            // the gateway's service token for brain on every call (shared/auth/ServiceTokens.ts)
            transformClient: (c) => withServiceToken(tokens, "gateway", "brain")(retagErrors(c))
          }),
          (client) => ({
            resolveIntent: (req) =>
              client.internal.resolveIntent({ payload: req }).pipe(
                Effect.map((r) => r.intent),
                Effect.catchTags(callFailed("brain")),
                Effect.withSpan("BrainClient.resolveIntent")
              )
          })
        )
      )
    ).pipe(Layer.provide(FetchHttpClient.layer))
}
