import { Redis } from "../../shared/layers/Redis.js"
import { garmentGenerationKey, garmentMetadataKey, raiseGeneration } from "../knowledge/Keys.js"
import { Context, Effect, Layer } from "effect"
import type { GarmentUpdated as GarmentUpdatedFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"
import { Nats, natsPayload } from "../../shared/layers/Nats.js"

/**
 * `brandme.garment.updated` after an ownership change, so every replica's garment and policy
 * caches drop the garment. The database change is already committed when this runs: a NATS outage
 * is logged, never turned into a failed request (caches still expire on their TTL).
 */
export interface GarmentUpdated {
  readonly garmentId: string
  readonly version: number
  readonly change: "claimed" | "transferred"
  readonly at: string
}

export interface GarmentEventsShape {
  readonly updated: (event: GarmentUpdated) => Effect.Effect<void>
}

export class GarmentEvents extends Context.Tag("brandme/identity/GarmentEvents")<GarmentEvents, GarmentEventsShape>() {}

export interface GarmentEventsOptions {
  /** stream holding garment facts; created on first failed publish when missing */
  readonly stream?: string
  readonly subject?: string
  readonly streamSubjects?: ReadonlyArray<string>
}

export const makeGarmentEventsLive = (o: GarmentEventsOptions = {}) =>
  Layer.effect(
    GarmentEvents,
    Effect.gen(function* () {
      const nats = yield* Nats
      const redis = yield* Redis
      // the subject the gateways' invalidation listens on (under NATS_SUBJECT_PREFIX, like every subject)
      const subject = o.subject ?? (yield* ScanPathSubjects).garmentUpdated
      const stream = o.stream ?? `${nats.streamPrefix}_GARMENTS`
      // brandme.garment.> under the same prefix
      const streamSubjects = o.streamSubjects ?? [subject.replace(/[^.]+$/, ">")]
      // the scan path's fact (shared/events/ScanPathFacts.ts), with the generation when this change raised it
      const publish = (e: GarmentUpdated, generation: number | undefined) => {
        const fact: GarmentUpdatedFact = { ...e, ...(generation !== undefined ? { generation } : {}) }
        return nats.publish(subject, natsPayload(fact), { "content-type": "application/json" })
      }
      // the scan path's caches are keyed by the garment's generation (knowledge/Keys.ts): raise it to the version
      // committed so the very next scan on every replica reads the new owner, then drop the cached metadata
      const invalidate = (garmentId: string, version: number) =>
        Effect.gen(function* () {
          const raw = yield* redis.cache
          const generation = yield* Effect.tryPromise(() =>
            raiseGeneration(raw, redis.key(garmentGenerationKey(garmentId)), version)
          )
          yield* redis.del(garmentMetadataKey(garmentId))
          return generation
        }).pipe(
          Effect.catchAll((err) =>
            Effect.as(Effect.logWarning("could not invalidate garment caches", String(err)), undefined)
          )
        )
      return GarmentEvents.of({
        updated: (e) =>
          Effect.flatMap(invalidate(e.garmentId, e.version), (generation) =>
            publish(e, generation).pipe(
              // no stream bound to the subject yet (fresh environment): create it and try once more
              Effect.orElse(() => Effect.zipRight(nats.ensureStream(stream, streamSubjects), publish(e, generation)))
            )
          ).pipe(
            Effect.catchAll((err) => Effect.logWarning(`could not publish ${subject}`, err.message)),
            Effect.asVoid,
            Effect.withSpan("GarmentEvents.updated")
          )
      })
    })
  )

export const GarmentEventsLive = makeGarmentEventsLive()
