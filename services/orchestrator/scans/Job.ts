import { Effect, Either, Schema } from "effect"
import { isRecord } from "../../../shared/Guards.js"
import { DeadLetterQueue, Queues } from "../../../shared/layers/Queues.js"
import { Metrics } from "../../../shared/telemetry/Metrics.js"
import { addDeadLetterFor } from "../DeadLetters.js"
import { dependencyFailed, InvalidPayload } from "../Errors.js"
import * as P from "../Payloads.js"
import { safeJobId, TaskNames } from "../Routing.js"
import { decode, type JobView } from "../TaskContext.js"
import { ScanBatcher } from "./Batcher.js"

const decodeScan = Schema.decodeUnknownEither(P.ScanEvent)

const missingGarment = (event: P.ScanEvent) =>
  new InvalidPayload({ task: TaskNames.persistScanEvent, message: `garment ${event.garmentId} does not exist` })

const scanIdOf = (raw: unknown): string | undefined =>
  isRecord(raw) && typeof raw.scanId === "string" && raw.scanId !== "" ? raw.scanId : undefined

/**
 * persist_scan_event: `{ scans: [...] }` (the one shape; `persistScanJobs` builds it), handed to the scans worker's
 * batcher. An invalid envelope (not an array, empty, more than MaxScansPerJob) fails the job unrecoverably
 * (→ dead letters). A scan that is malformed or names an unknown garment is dead-lettered on its own, as a
 * one-scan persist job (replayable alone), and the job completes with the others persisted.
 */
export const persistScanJob = (job: JobView) =>
  Effect.gen(function* () {
    const batcher = yield* ScanBatcher
    const jobId = job.id
    const envelope = yield* decode(TaskNames.persistScanEvent, P.ScanBatchEnvelope)(job.data)
    const scans = envelope.scans
    // each scan on its own: a malformed one is dead-lettered alone, the others go on
    const events: Array<P.ScanEvent> = []
    const rejected: Array<{ readonly data: unknown; readonly jobId: string; readonly error: string }> = []
    for (const raw of scans) {
      const d = decodeScan(raw)
      if (Either.isRight(d)) events.push(d.right)
      else
        rejected.push({
          data: { scans: [raw] },
          jobId: safeJobId("invalid", scanIdOf(raw) ?? `${jobId}-${rejected.length}`),
          error: `InvalidPayload: ${d.left.message.slice(0, 2000)}`
        })
    }
    const results = yield* batcher.submit({ jobId, events })
    let persisted = 0
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as P.ScanEvent
      if (results[i] !== undefined) persisted++
      else
        rejected.push({
          data: { scans: [Schema.encodeSync(P.ScanEvent)(event)] },
          jobId: event.scanId,
          error: `InvalidPayload: ${missingGarment(event).message}`
        })
    }
    if (rejected.length > 0) {
      const dlq = yield* Effect.flatMap(Queues, (q) => q.queue(DeadLetterQueue)).pipe(Effect.orDie)
      const { m } = yield* Metrics
      for (const r of rejected) {
        yield* Effect.tryPromise({
          try: () =>
            addDeadLetterFor(dlq, {
              queue: job.queue,
              name: TaskNames.persistScanEvent,
              jobId: r.jobId,
              data: r.data,
              error: r.error,
              attempts: job.attemptsMade + 1,
              unrecoverable: true
            }),
          catch: dependencyFailed("dead-letter scan")
        })
        m.deadLettersTotal.inc({ queue: job.queue, task: TaskNames.persistScanEvent })
      }
    }
    return { scans: scans.length, persisted, deadLettered: rejected.length }
  })
