import { Effect, Schedule } from "effect"
import { type AnyQueueName, DeadLetterQueue, QueueNames, Queues } from "../../shared/layers/Queues.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { dependencyFailed } from "./Errors.js"
import { scanLogKey } from "./ScanLog.js"

export interface QueueRow {
  readonly queue: AnyQueueName
  readonly waiting: number
  readonly active: number
  readonly delayed: number
  readonly completed: number
  readonly failed: number
  readonly workers: number | undefined
}

export const allQueues: ReadonlyArray<AnyQueueName> = [...QueueNames, DeadLetterQueue]

/** Counts of every queue; `workers` is undefined where CLIENT LIST is not allowed (managed Redis). */
export const queueTable = Effect.gen(function* () {
  const queues = yield* Queues
  return yield* Effect.forEach(
    allQueues,
    (name) =>
      Effect.flatMap(queues.queue(name).pipe(Effect.orDie), (q) =>
        Effect.tryPromise({
          try: async (): Promise<QueueRow> => {
            const c = await q.getJobCounts(
              "waiting",
              "prioritized",
              "active",
              "delayed",
              "completed",
              "failed",
              "waiting-children"
            )
            const workers = await q.getWorkersCount().catch(() => undefined)
            return {
              queue: name,
              waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
              active: c.active ?? 0,
              delayed: c.delayed ?? 0,
              completed: c.completed ?? 0,
              failed: c.failed ?? 0,
              workers
            }
          },
          catch: dependencyFailed(`counts ${name}`)
        })
      ),
    { concurrency: "unbounded" }
  )
})

/** The scans the gateway logged and the relay has not yet moved into jobs: the scan log's entries (each a turn's). */
export const scanLogBacklog = Effect.flatMap(Queues, (queues) =>
  Effect.flatMap(queues.connection.pipe(Effect.orDie), (redis) =>
    Effect.tryPromise({ try: () => redis.xlen(scanLogKey(queues.prefix)), catch: dependencyFailed("XLEN scan log") })
  )
)

export const formatTable = (rows: ReadonlyArray<QueueRow>): string => {
  const head = ["queue", "waiting", "active", "delayed", "completed", "failed", "workers"]
  const body = rows.map((r) => [
    r.queue,
    String(r.waiting),
    String(r.active),
    String(r.delayed),
    String(r.completed),
    String(r.failed),
    r.workers === undefined ? "?" : String(r.workers)
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")
  return [line(head), ...body.map(line)].join("\n")
}

/** brandme_queue_depth{queue,state} (and {queue="scans",state="logged"}: the scan log's entries), refreshed every `everyMs` (15 s in production). */
export const pollDepth = (everyMs: number) =>
  Effect.gen(function* () {
    const { m } = yield* Metrics
    const tick = queueTable.pipe(
      Effect.tap((rows) =>
        Effect.sync(() => {
          for (const r of rows) {
            m.queueDepth.set({ queue: r.queue, state: "waiting" }, r.waiting)
            m.queueDepth.set({ queue: r.queue, state: "active" }, r.active)
            m.queueDepth.set({ queue: r.queue, state: "delayed" }, r.delayed)
            m.queueDepth.set({ queue: r.queue, state: "failed" }, r.failed)
          }
        })
      ),
      Effect.zipRight(scanLogBacklog),
      Effect.tap((n) => Effect.sync(() => m.queueDepth.set({ queue: "scans", state: "logged" }, n))),
      Effect.catchAll((e) => Effect.logWarning(`queue depth poll: ${e.message}`))
    )
    return yield* Effect.repeat(tick, Schedule.spaced(`${everyMs} millis`))
  })
