import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import { Context, Effect, Layer } from "effect"
import { ServiceTokens, withServiceToken } from "../../shared/auth/ServiceTokens.js"
import type { TagRef } from "../../shared/domain/DigitalLink.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { callFailed, retagErrors, type UpstreamError } from "../../shared/http/Upstream.js"
import { type FacetsView, type GarmentNotFound, type GarmentRecord, KnowledgeApi } from "./Api.js"
import { Knowledge } from "./Knowledge.js"

/** What the gateway needs from knowledge; the same interface in-process and over HTTP. */
export interface KnowledgeCalls {
  readonly resolve: (ref: TagRef) => Effect.Effect<GarmentRecord, GarmentNotFound | UpstreamError>
  readonly view: (
    garmentId: string,
    allowed: ReadonlyArray<FacetGroup>
  ) => Effect.Effect<FacetsView, GarmentNotFound | UpstreamError>
}

export class KnowledgeClient extends Context.Tag("brandme/KnowledgeClient")<KnowledgeClient, KnowledgeCalls>() {
  static readonly InProcess = Layer.effect(
    KnowledgeClient,
    Effect.map(Knowledge, (k) => ({ resolve: k.resolve, view: k.view }))
  ).pipe(Layer.provide(Knowledge.Default))

  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      KnowledgeClient,
      Effect.flatMap(ServiceTokens, (tokens) =>
        Effect.map(
          HttpApiClient.make(KnowledgeApi, {
            baseUrl,
            // the gateway's service token for knowledge on every call (shared/auth/ServiceTokens.ts)
            transformClient: (c) => withServiceToken(tokens, "gateway", "knowledge")(retagErrors(c))
          }),
          (client) => ({
            resolve: (ref) =>
              client.internal
                .resolve({ payload: { ref } })
                .pipe(Effect.catchTags(callFailed("knowledge")), Effect.withSpan("KnowledgeClient.resolve")),
            view: (garmentId, allowed) =>
              client.internal
                .view({ payload: { garmentId, allowed } })
                .pipe(Effect.catchTags(callFailed("knowledge")), Effect.withSpan("KnowledgeClient.view"))
          })
        )
      )
    ).pipe(Layer.provide(FetchHttpClient.layer))
}
