import { Context, Effect, type Either, Layer, type Tracer } from "effect"
import type { TagRef } from "../../shared/domain/DigitalLink.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import {
  callUnderCurrentSpan,
  makePlainRunner,
  makePlainSpans,
  traceparentOf
} from "../../shared/telemetry/PlainSpans.js"
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
  /** the same calls as plain promises of their outcome (no fiber: the scan path), run under `parent` */
  readonly plain: {
    readonly resolve: (
      ref: TagRef,
      view: ReadonlyArray<FacetGroup> | undefined,
      parent: Tracer.AnySpan | undefined
    ) => Promise<Either.Either<ResolvedGarment, GarmentNotFound | UpstreamError>>
    /** `generation`: the garment's generation the caller holds (read with its record), spares knowledge a read */
    readonly view: (
      garmentId: string,
      allowed: ReadonlyArray<FacetGroup>,
      generation: string | undefined,
      parent: Tracer.AnySpan | undefined
    ) => Promise<Either.Either<FacetsView, GarmentNotFound | UpstreamError>>
  }
}

export class KnowledgeClient extends Context.Tag("brandme/KnowledgeClient")<KnowledgeClient, KnowledgeCalls>() {
  static readonly InProcess = Layer.effect(
    KnowledgeClient,
    Effect.gen(function* () {
      const k = yield* Knowledge
      const run = yield* makePlainRunner
      return {
        resolve: k.resolve,
        view: k.view,
        plain: {
          resolve: (ref, view, parent) => run(k.resolve(ref, view), parent),
          view: (garmentId, allowed, generation, parent) => run(k.view(garmentId, allowed, generation), parent)
        }
      } satisfies KnowledgeCalls
    })
  ).pipe(Layer.provide(Knowledge.Default))

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for knowledge and its own trace (a `KnowledgeClient.<op>` span).
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      KnowledgeClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(KnowledgeInternalApi, { baseUrl, caller: "gateway", callee: "knowledge" })
        const spans = yield* makePlainSpans
        const resolve = (
          ref: TagRef,
          view: ReadonlyArray<FacetGroup> | undefined,
          parent: Tracer.AnySpan | undefined
        ) =>
          spans.around("KnowledgeClient.resolve", parent, (span) =>
            batch.call("resolve", view === undefined ? { ref } : { ref, view }, traceparentOf(span))
          )
        const viewOf = (
          garmentId: string,
          allowed: ReadonlyArray<FacetGroup>,
          generation: string | undefined,
          parent: Tracer.AnySpan | undefined
        ) =>
          spans.around("KnowledgeClient.view", parent, (span) =>
            batch.call(
              "view",
              generation === undefined ? { garmentId, allowed } : { garmentId, allowed, generation },
              traceparentOf(span)
            )
          )
        return {
          resolve: (ref, view) => callUnderCurrentSpan((parent) => resolve(ref, view, parent)),
          view: (garmentId, allowed) => callUnderCurrentSpan((parent) => viewOf(garmentId, allowed, undefined, parent)),
          plain: { resolve, view: viewOf }
        } satisfies KnowledgeCalls
      })
    )
}
