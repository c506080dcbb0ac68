import { type Job, UnrecoverableError, WaitingError, Worker } from "bullmq"
import { Cause, Effect, Exit, Option, Runtime, type Scope, Tracer } from "effect"
import { DeadLetterQueue, type QueueName, QueueNames, Queues } from "../../shared/layers/Queues.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { parseTraceparent } from "../../shared/telemetry/TraceContext.js"
import { jobTraceparent } from "../../shared/layers/Queues.js"
import { isRecord } from "../../shared/Guards.js"
import { addDeadLetter } from "./DeadLetters.js"
import { JobHandedBack, TaskDependencyFailed, unrecoverableTags } from "./Errors.js"
import { backoffStrategy } from "./Routing.js"
import { makeScanBatcher, type PersistBatch, ScanBatcher } from "./scans/Batcher.js"
import { OrchestratorSettings } from "./Settings.js"
import type { JobView, TaskEnv } from "./TaskContext.js"
import { handlerFor, unknownTask } from "./Tasks.js"

/**
 * One BullMQ Worker per queue. Each job: decode → handler → outcome metrics; on the last attempt
 * (or an unrecoverable error) the job is copied to the dead-letter queue *before* it is failed, so a
 * crash in between leaves a retried job, never a lost letter. `close()` on scope end stops fetching
 * and waits for in-flight jobs (SIGTERM drain); a killed worker's jobs come back via stall recovery.
 */
const messageOf = (e: unknown): string =>
  e instanceof Error ? e.message : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)

const tagOf = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" ? e._tag : undefined

export const startWorkers = (o: {
  readonly queues?: ReadonlyArray<QueueName>
  /** the batch writer (the benchmark swaps in a one-row-per-statement variant) */
  readonly persist: PersistBatch
}): Effect.Effect<ReadonlyArray<Worker>, never, TaskEnv | Metrics | Scope.Scope> =>
  Effect.gen(function* () {
    const queues = yield* Queues
    const { m } = yield* Metrics
    const settings = yield* OrchestratorSettings
    const connection = yield* queues.connection.pipe(Effect.orDie)
    const dlq = yield* queues.queue(DeadLetterQueue).pipe(Effect.orDie)
    const runtime = yield* Effect.runtime<TaskEnv>()
    const run = Runtime.runPromiseExit(yield* Effect.runtime<TaskEnv | Metrics>())
    // the scans worker's batcher: the persist task submits its scans to it
    const batcher = makeScanBatcher({
      runtime,
      persist: o.persist,
      maxBatch: settings.scanBatchSize,
      lingerMs: settings.scanBatchLingerMs,
      maxInFlight: settings.concurrency.scans
    })

    const view = (job: Job, queue: QueueName): JobView => ({
      id: job.id ?? "",
      name: job.name,
      queue,
      data: job.data,
      attemptsMade: job.attemptsMade
    })

    const effectFor = (job: Job, queue: QueueName): Effect.Effect<unknown, unknown, TaskEnv | Metrics> =>
      Option.match(handlerFor(job.name), {
        onNone: () => Effect.fail(unknownTask(queue, job.name)),
        onSome: (h) => Effect.provideService(h(view(job, queue)), ScanBatcher, batcher)
      })

    // a scan job continues its first scan's trace
    const payloadTraceparent = (data: unknown): string | undefined => {
      const first: unknown = isRecord(data) && Array.isArray(data.scans) ? data.scans[0] : undefined
      return isRecord(first) && typeof first.traceparent === "string" ? first.traceparent : undefined
    }
    const processor = (queue: QueueName) => async (job: Job, token?: string) => {
      const t0 = performance.now()
      // every job runs in a span continuing the producer's trace (BullMQ's telemetry slot; a scan event
      // also carries it in its payload)
      // (no stack trace captured for the span: it would cost an Error per job and name only this line)
      const parent = parseTraceparent(jobTraceparent(job) ?? payloadTraceparent(job.data))
      const exit = await run(
        Effect.withSpan(effectFor(job, queue), `job ${job.name}`, {
          kind: "consumer",
          captureStackTrace: false,
          attributes: { "messaging.destination": queue, "job.id": job.id ?? "", "job.attempt": job.attemptsMade + 1 },
          ...(Option.isSome(parent) ? { parent: Tracer.externalSpan(parent.value) } : {})
        })
      )
      const labels = { queue, task: job.name }
      m.queueJobDuration.observe(labels, (performance.now() - t0) / 1000)
      if (Exit.isSuccess(exit)) {
        m.queueJobsTotal.inc({ ...labels, outcome: "completed" })
        return exit.value
      }
      const failure = Cause.failureOption(exit.cause)
      const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
      if (error instanceof JobHandedBack) {
        // shutting down: the job goes back to wait now (another worker takes it at once), not after its lock expires
        await job.moveToWait(token)
        m.queueJobsTotal.inc({ ...labels, outcome: "handed_back" })
        throw new WaitingError(error.message)
      }
      const unrecoverable = unrecoverableTags.has(tagOf(error) ?? "")
      const final = unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
      const message = `${tagOf(error) ?? "Error"}: ${messageOf(error)}`
      if (final) {
        await addDeadLetter(dlq, job, queue, message, unrecoverable)
        m.deadLettersTotal.inc(labels)
        m.queueJobsTotal.inc({ ...labels, outcome: "dead_lettered" })
      } else {
        m.queueJobsTotal.inc({ ...labels, outcome: "retried" })
      }
      m.queueJobsTotal.inc({ ...labels, outcome: "failed" })
      return Promise.reject(
        unrecoverable
          ? new UnrecoverableError(message)
          : error instanceof Error
            ? error
            : new TaskDependencyFailed({ operation: job.name, message })
      )
    }

    const names = o.queues ?? QueueNames
    const workers = names.map((queue) => {
      // the scans worker holds many jobs for the batcher; it writes `concurrency.scans` batches at once
      const concurrency = queue === "scans" ? settings.scanJobsInFlight : settings.concurrency[queue]
      const w = new Worker(queue, processor(queue), {
        connection,
        prefix: queues.prefix,
        concurrency,
        lockDuration: settings.lockDurationMs,
        stalledInterval: settings.stalledIntervalMs,
        maxStalledCount: settings.maxStalledCount,
        settings: { backoffStrategy },
        autorun: true
      })
      w.on("error", (e) => Runtime.runFork(runtime)(Effect.logWarning(`worker ${queue}: ${e.message}`)))
      // a job that stalled past maxStalledCount is failed by BullMQ without running our processor
      w.on("failed", (job, err) => {
        if (job === undefined || !/stalled more than allowable limit/.test(err.message)) return
        void addDeadLetter(dlq, job, queue, err.message, false).catch(() => undefined)
        m.deadLettersTotal.inc({ queue, task: job.name })
        m.queueJobsTotal.inc({ queue, task: job.name, outcome: "dead_lettered" })
      })
      m.queueWorkers.inc({ queue })
      return w
    })
    // started = connected and fetching (so "workers started" in the log is true, and a benchmark
    // timing from here times jobs, not connecting); a Redis that is not there yet does not block start
    yield* Effect.promise(() => Promise.all(workers.map((w) => w.waitUntilReady().catch(() => undefined)))).pipe(
      Effect.timeout("10 seconds"),
      Effect.ignore
    )
    // SIGTERM: stop fetching, give the scans the batcher holds unstarted back at once, let running work finish
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        const closing = Promise.all(workers.map((w) => w.close().catch(() => undefined)))
        batcher.handBack()
        await closing
        for (const q of names) m.queueWorkers.dec({ queue: q })
      })
    )
    return workers
  })
