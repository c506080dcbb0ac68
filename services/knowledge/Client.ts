import { Context, Effect, Layer } from "effect"
import type { TagRef } from "../../shared/domain/DigitalLink.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import { type FacetsView, type GarmentNotFound, KnowledgeInternalApi, type ResolvedGarment } from "./Api.js"
import { Knowledge } from "./Knowledge.js"

/** What the gateway needs from knowledge; the same interface in-process and over HTTP. */
export interface KnowledgeCalls {
  /** the garment a tag names; with `view`, also its view of those groups when it has no owner (Api.ts) */
  readonly resolve: (
    ref: TagRef,
    view?: ReadonlyArray<FacetGroup>
  ) => Effect.Effect<ResolvedGarment, GarmentNotFound | UpstreamError>
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

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for knowledge and its own trace.
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      KnowledgeClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(KnowledgeInternalApi, { baseUrl, caller: "gateway", callee: "knowledge" })
        return {
          resolve: (ref, view) =>
            batch
              .call("resolve", view === undefined ? { ref } : { ref, view })
              .pipe(Effect.withSpan("KnowledgeClient.resolve", { captureStackTrace: false })),
          view: (garmentId, allowed) =>
            batch
              .call("view", { garmentId, allowed })
              .pipe(Effect.withSpan("KnowledgeClient.view", { captureStackTrace: false }))
        } satisfies KnowledgeCalls
      })
    )
}
