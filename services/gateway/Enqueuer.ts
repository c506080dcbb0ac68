import { Effect, Either } from "effect"
import type { ScanEventEncoded } from "../../shared/domain/Scan.js"
import { Tasks } from "../../shared/domain/Scan.js"
import { Queues } from "../../shared/layers/Queues.js"
import { QueueUnavailable } from "./Api.js"

/** The options the orchestrator relies on: one job per scan id (dedupe), five tries with backoff. */
export const scanJobOptions = (scanId: string) => ({
  jobId: scanId,
  attempts: 5,
  backoff: { type: "exponential", delay: 500 }
})

interface Pending {
  readonly data: ScanEventEncoded
  readonly done: (error: string | undefined) => void
}

/**
 * Puts scan events on the `scans` queue. Adds arriving in the same event-loop turn go to Redis as one
 * `addBulk` (one pipelined round trip instead of one per scan). The HTTP answer still waits for its
 * own job to be confirmed: a scan the API accepted is never lost, and the batching costs no timer
 * delay (the flush runs on the next `setImmediate`).
 */
export class ScanEnqueuer extends Effect.Service<ScanEnqueuer>()("brandme/gateway/ScanEnqueuer", {
  scoped: Effect.gen(function* () {
    const queues = yield* Queues
    const bullQueue = yield* Effect.either(queues.queue("scans"))
    let pending: Array<Pending> = []
    let scheduled = false
    const sendOneByOne = (batch: ReadonlyArray<Pending>) => {
      for (const p of batch) {
        Effect.runPromise(
          Effect.either(queues.add("scans", Tasks.persistScanEvent, p.data, scanJobOptions(p.data.scanId)))
        ).then((r) => p.done(Either.isLeft(r) ? r.left.message : undefined))
      }
    }
    const flush = () => {
      scheduled = false
      const batch = pending
      pending = []
      if (batch.length === 0) return
      if (Either.isLeft(bullQueue)) return sendOneByOne(batch)
      bullQueue.right
        .addBulk(
          batch.map((p) => ({ name: Tasks.persistScanEvent, data: p.data, opts: scanJobOptions(p.data.scanId) }))
        )
        .then(
          () => {
            for (const p of batch) p.done(undefined)
          },
          (e: unknown) => {
            const message = e instanceof Error ? e.message : String(e)
            for (const p of batch) p.done(message)
          }
        )
    }
    yield* Effect.addFinalizer(() => Effect.sync(flush))
    /** resolves with undefined once Redis confirmed the job, or with the failure message */
    const enqueuePromise = (data: ScanEventEncoded) =>
      new Promise<string | undefined>((resolve) => {
        pending.push({ data, done: resolve })
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    const queueUnavailable = (error: string) =>
      new QueueUnavailable({ message: `the scan could not be queued, retry: ${error}` })
    const enqueue = (data: ScanEventEncoded) =>
      Effect.flatMap(
        Effect.promise(() => enqueuePromise(data)),
        (error) => (error === undefined ? Effect.void : Effect.fail(queueUnavailable(error)))
      )
    return { enqueue, enqueuePromise, queueUnavailable }
  })
}) {}
