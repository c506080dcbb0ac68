import { Effect, Either } from "effect"
import type { ScanEventEncoded } from "../../../shared/domain/Scan.js"
import { Queues } from "../../../shared/layers/Queues.js"
import { makeTurnBatcher } from "../../../shared/TurnBatcher.js"
import { persistScanJobs, queueFor, TaskNames } from "../../orchestrator/Api.js"
import { QueueUnavailable } from "./Api.js"

interface Pending {
  readonly data: ScanEventEncoded
  readonly done: (error: string | undefined) => void
}

const scansQueue = queueFor(TaskNames.persistScanEvent)

/**
 * Puts scan events on the `scans` queue. Scans arriving in the same event-loop turn go to Redis as ONE
 * persist_scan_event job carrying all of them (the orchestrator's `persistScanJobs`: its routing,
 * attempts and jittered backoff; split only past MaxScansPerJob), so the orchestrator pays BullMQ's
 * per-job cost once per turn, not once per scan. Each scan is still persisted exactly once by its
 * scan id. The HTTP answer still waits for Redis to confirm the job: a scan the API accepted is never
 * lost, and the batching costs no timer delay (the flush runs on the next `setImmediate`).
 */
export class ScanEnqueuer extends Effect.Service<ScanEnqueuer>()("brandme/gateway/ScanEnqueuer", {
  scoped: Effect.gen(function* () {
    const queues = yield* Queues
    const bullQueue = yield* Effect.either(queues.queue(scansQueue))
    const batcher = makeTurnBatcher<Pending>((batch) => {
      const jobs = persistScanJobs(batch.map((p) => p.data))
      const settle = (error: string | undefined) => {
        for (const p of batch) p.done(error)
      }
      if (Either.isLeft(bullQueue)) {
        // no BullMQ object (the unit-test queue layer): the same jobs through `add`
        Effect.runPromise(
          Effect.either(Effect.forEach(jobs, (j) => queues.add(scansQueue, j.name, j.data, j.opts), { discard: true }))
        ).then((r) => settle(Either.isLeft(r) ? r.left.message : undefined))
        return
      }
      // one job (a turn's scans, the usual case) goes with `add`: `addBulk` builds an ioredis pipeline, whose
      // constructor copies every one of BullMQ's ~50 scripts onto it (~4 % of the gateway's CPU in a cold round)
      const [only] = jobs
      const added =
        jobs.length === 1 && only !== undefined
          ? bullQueue.right.add(only.name, only.data, only.opts)
          : bullQueue.right.addBulk(jobs)
      added.then(
        () => settle(undefined),
        (e: unknown) => settle(e instanceof Error ? e.message : String(e))
      )
    })
    yield* Effect.addFinalizer(() => Effect.sync(batcher.flushNow))
    /** resolves with undefined once Redis confirmed the job, or with the failure message */
    const enqueuePromise = (data: ScanEventEncoded) =>
      new Promise<string | undefined>((resolve) => batcher.push({ data, done: resolve }))
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
