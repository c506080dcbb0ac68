import { type JobsOptions, Queue } from "bullmq"
import { Effect, Layer, Option, Redacted } from "effect"
import type { Redis as IORedis } from "ioredis"
import { AppConfig } from "../config/AppConfig.js"
import { currentTraceparent } from "../telemetry/TraceContext.js"
import { DependencyError, describeCause, type NotImplementedInTest } from "./Errors.js"
import { type AnyQueueName, type QueueName, QueueNames } from "./QueueNames.js"
import { Queues } from "./Systems.js"
import { makeRedisClient } from "./Redis.js"

/** The trace parent a producer left on a job, for the worker's span (see TraceContext.withRemoteParent). */
export const jobTraceparent = (job: { readonly opts: JobsOptions }): string | undefined => job.opts.telemetry?.metadata

export { type AnyQueueName, DeadLetterQueue, type QueueName, QueueNames } from "./QueueNames.js"

export interface EnqueuedJob {
  readonly queue: AnyQueueName
  readonly name: string
  readonly data: unknown
  readonly opts: JobsOptions | undefined
}

export interface QueuesService {
  readonly prefix: string
  readonly names: ReadonlyArray<QueueName>
  readonly ping: Effect.Effect<void, DependencyError>
  readonly add: (
    queue: AnyQueueName,
    name: string,
    data: unknown,
    opts?: JobsOptions
  ) => Effect.Effect<{ readonly id: string }, DependencyError>
  /** the BullMQ queue object, for workers, schedulers and flows */
  readonly queue: (name: AnyQueueName) => Effect.Effect<Queue, NotImplementedInTest>
  /** the queue Redis connection (`maxRetriesPerRequest: null`) */
  readonly connection: Effect.Effect<IORedis, NotImplementedInTest>
}

export { Queues }

const fail = (operation: string) => (cause: unknown) =>
  new DependencyError({ dependency: "queue", operation, message: describeCause(cause) })

export const makeQueuesLayer = (o: { readonly url: string; readonly prefix: string; readonly name: string }) =>
  Layer.scoped(
    Queues,
    Effect.gen(function* () {
      const connection = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const c = makeRedisClient(o.url, o.name, "queue")
          c.on("error", () => {})
          return c
        }),
        (c) => Effect.promise(() => c.quit().catch(() => c.disconnect()))
      )
      const queues = new Map<AnyQueueName, Queue>()
      const get = (name: AnyQueueName): Queue => {
        let q = queues.get(name)
        if (q === undefined) {
          q = new Queue(name, { connection, prefix: o.prefix })
          q.on("error", () => {})
          queues.set(name, q)
        }
        return q
      }
      yield* Effect.addFinalizer(() =>
        Effect.promise(() => Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined))))
      )
      const service: QueuesService = {
        prefix: o.prefix,
        names: QueueNames,
        ping: Effect.tryPromise({ try: () => connection.ping(), catch: fail("ping") }).pipe(
          Effect.timeoutFail({
            duration: "2 seconds",
            onTimeout: () => new DependencyError({ dependency: "queue", operation: "ping", message: "timed out" })
          }),
          Effect.asVoid
        ),
        add: (queue, name, data, opts) =>
          Effect.flatMap(currentTraceparent, (traceparent) =>
            Effect.tryPromise({
              // BullMQ's own slot for propagated context: workers continue the trace from it
              try: () =>
                get(queue).add(
                  name,
                  data,
                  traceparent._tag === "Some" && opts?.telemetry === undefined
                    ? { ...opts, telemetry: { metadata: traceparent.value } }
                    : opts
                ),
              catch: fail(`add ${queue}/${name}`)
            })
          ).pipe(
            Effect.map((job) => ({ id: job.id ?? "" })),
            Effect.withSpan(`queue.add ${queue}`, {
              kind: "producer",
              attributes: { "messaging.destination": queue, "job.name": name }
            })
          ),
        queue: (name) => Effect.sync(() => get(name)),
        connection: Effect.succeed(connection)
      }
      return service
    })
  )

export const QueuesLive = (name: string) =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (c) =>
      makeQueuesLayer({
        url: Redacted.value(Option.getOrElse(c.redis.queueUrl, () => c.redis.url)),
        prefix: c.queues.prefix,
        name
      })
    )
  )
