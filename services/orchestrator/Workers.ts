import { type Job, UnrecoverableError, Worker } from "bullmq"
import { Cause, Effect, Exit, Option, Runtime, type Scope } from "effect"
import { DeadLetterQueue, type QueueName, QueueNames, Queues } from "../../shared/layers/Queues.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { withRemoteParent } from "../../shared/telemetry/TraceContext.js"
import { jobTraceparent } from "../../shared/layers/Queues.js"
import { addDeadLetter } from "./DeadLetters.js"
import { TaskDependencyFailed, unrecoverableTags } from "./Errors.js"
import * as P from "./Payloads.js"
import { backoffStrategy, TaskNames } from "./Routing.js"
import { makeScanBatcher, type PersistBatch } from "./ScanBatcher.js"
import { OrchestratorSettings } from "./Settings.js"
import { decode, handlerFor, type JobView, type TaskEnv, unknownTask } from "./Tasks.js"

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
    const run = Runtime.runPromiseExit(runtime)
    const batcher = makeScanBatcher({
      runtime,
      persist: o.persist,
      maxBatch: settings.scanBatchSize,
      lingerMs: settings.scanBatchLingerMs
    })

    const view = (job: Job, queue: QueueName): JobView => ({
      id: job.id ?? "",
      name: job.name,
      queue,
      data: job.data,
      isFlowChild: job.parentKey !== undefined,
      childrenValues: Effect.promise(() => job.getChildrenValues().then((v) => Object.values(v)))
    })

    const effectFor = (job: Job, queue: QueueName): Effect.Effect<unknown, unknown, TaskEnv> => {
      if (job.name === TaskNames.persistScanEvent)
        return Effect.gen(function* () {
          const event = yield* decode(TaskNames.persistScanEvent, P.ScanEvent)(job.data)
          return yield* Effect.tryPromise({
            try: () => batcher.submit({ event, isFlowChild: job.parentKey !== undefined }),
            catch: (e) =>
              tagOf(e) !== undefined ? e : new TaskDependencyFailed({ operation: "persist", message: messageOf(e) })
          })
        })
      return Option.match(handlerFor(job.name), {
        onNone: () => Effect.fail(unknownTask(queue, job.name)),
        onSome: (h) => h(view(job, queue))
      })
    }

    const payloadTraceparent = (data: unknown): string | undefined =>
      typeof data === "object" && data !== null && "traceparent" in data && typeof data.traceparent === "string"
        ? data.traceparent
        : undefined
    const processor = (queue: QueueName) => async (job: Job) => {
      const t0 = performance.now()
      // every job runs in a span continuing the producer's trace (BullMQ's telemetry slot; a scan event
      // also carries it in its payload)
      const exit = await run(
        withRemoteParent(`job ${job.name}`, jobTraceparent(job) ?? payloadTraceparent(job.data), {
          "messaging.destination": queue,
          "job.id": job.id ?? "",
          "job.attempt": job.attemptsMade + 1
        })(effectFor(job, queue))
      )
      const labels = { queue, task: job.name }
      m.queueJobDuration.observe(labels, (performance.now() - t0) / 1000)
      if (Exit.isSuccess(exit)) {
        m.queueJobsTotal.inc({ ...labels, outcome: "completed" })
        return exit.value
      }
      const failure = Cause.failureOption(exit.cause)
      const error = Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
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
      const concurrency =
        queue === "scans" ? settings.concurrency.scans * settings.scanBatchSize : settings.concurrency[queue]
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
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        await Promise.all(workers.map((w) => w.close().catch(() => undefined)))
        for (const q of names) m.queueWorkers.dec({ queue: q })
      })
    )
    return workers
  })
