import { Effect } from "effect"
import { Nats } from "../layers/Nats.js"
import { ScanPathSubjects } from "./ScanPathSubjects.js"

export interface ConsentChanged {
  readonly ownerUserId: string
  readonly garmentId: string | null
  readonly purpose: string
  readonly granted: boolean
  readonly generation: number
}

export interface GarmentUpdated {
  readonly garmentId: string
  readonly version: number
  readonly generation: number
}

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
