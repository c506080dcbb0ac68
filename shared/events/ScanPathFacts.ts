import { Effect, Schema } from "effect"
import { Nats } from "../layers/Nats.js"
import { ScanPathSubjects } from "./ScanPathSubjects.js"

const Id = Schema.String.pipe(Schema.minLength(1))
const Count = Schema.Int.pipe(Schema.nonNegative())

/**
 * The scan path's facts on NATS, one schema each: what every publisher sends and every reader decodes (the
 * gateway's invalidation listener, services/gateway/Invalidation.ts). A reader ignores fields it does not know.
 */
export const ConsentChangedFact = Schema.Struct({
  ownerUserId: Id,
  /** null: the consent covers all the owner's garments */
  garmentId: Schema.NullOr(Id),
  purpose: Schema.String,
  granted: Schema.Boolean,
  /** the owner's cache generation after the change */
  generation: Count
})
export type ConsentChanged = typeof ConsentChangedFact.Type

export const GarmentUpdatedFact = Schema.Struct({
  garmentId: Id,
  /** the garment's version committed */
  version: Count,
  /** the garment's cache generation after the change: knowledge always sends it; identity when Redis raised it */
  generation: Schema.optional(Count),
  /** identity's ownership changes say which */
  change: Schema.optional(Schema.Literal("claimed", "transferred")),
  at: Schema.optional(Schema.String)
})
export type GarmentUpdated = typeof GarmentUpdatedFact.Type

/**
 * Makes sure a stream captures the subjects so JetStream publishes are acknowledged. A subject already
 * captured by another stream (a platform-wide `brandme.>` stream) is fine: publishes still land there.
 */
export const ensureScanPathStream = Effect.gen(function* () {
  const nats = yield* Nats
  const s = yield* ScanPathSubjects
  yield* nats
    .ensureStream(`${nats.streamPrefix}_${s.stream}`, [s.consentChanged, s.garmentUpdated])
    .pipe(
      Effect.catchAll((e) =>
        e.message.includes("overlap")
          ? Effect.logInfo("scan-path subjects are captured by another stream; publishing there")
          : Effect.logWarning(`scan-path stream not ensured: ${e.message}`)
      )
    )
})

/** Publishes a fact; NATS is optional for these services (the Redis generation already changed). */
export const publishFact = (subject: string, fact: ConsentChanged | GarmentUpdated, traceparent?: string) =>
  Effect.flatMap(Nats, (nats) =>
    nats
      .publish(subject, JSON.stringify(fact), traceparent === undefined ? {} : { traceparent })
      .pipe(Effect.catchAll((e) => Effect.logWarning(`publish ${subject} failed: ${e.message}`)))
  )
