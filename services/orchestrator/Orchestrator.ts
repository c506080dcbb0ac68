import { Effect, Layer, Schedule } from "effect"
import { Nats } from "../../shared/layers/Nats.js"
import { Queues } from "../../shared/layers/Queues.js"
import { Redis } from "../../shared/layers/Redis.js"
import { registerBeat } from "./Beat.js"
import { EventSubjects } from "../../shared/events/ScanEventSubjects.js"
import { AuditPortLive, ChainPortLive, KnowledgePortLive } from "./Ports.js"
import { pollDepth } from "./QueueStats.js"
import { checkRedisRoles } from "./RedisRoles.js"
import { persistBatch, type PersistBatch } from "./ScanBatcher.js"
import { OrchestratorSettings } from "./Settings.js"
import { startWorkers } from "./Workers.js"
import type { QueueName } from "../../shared/layers/Queues.js"

export interface OrchestratorOptions {
  readonly queues?: ReadonlyArray<QueueName>
  readonly persist?: PersistBatch
}

/**
 * The orchestrator process body, by ORCHESTRATOR_ROLE: `worker` runs the queue workers, `beat`
 * registers the job schedulers, `all` does both. Always: Redis role checks, the scans stream, and
 * the queue depth gauge. Everything stops with the layer's scope (workers drain first).
 */
export const orchestratorBody = (o: OrchestratorOptions = {}) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const settings = yield* OrchestratorSettings
      const redis = yield* Redis
      const queues = yield* Queues
      const nats = yield* Nats
      const subjects = yield* EventSubjects
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          const cache = yield* redis.cache
          const queue = yield* queues.connection
          yield* checkRedisRoles({ queue, cache })
        }).pipe(Effect.catchAll(() => Effect.logWarning("Redis maxmemory-policy could not be checked")))
      )
      // NATS connects in the background: wait for it, then make sure a stream captures scan events
      // (if another stream already captures them, publishes land there and this stays a warning)
      yield* Effect.forkScoped(
        nats.ping.pipe(
          Effect.retry(Schedule.spaced("1 second")),
          Effect.zipRight(
            nats.ensureStream(`${nats.streamPrefix}_${subjects.scanStream.suffix}`, subjects.scanStream.subjects)
          ),
          Effect.catchAll((e) => Effect.logWarning(`scan event stream not ensured: ${e.message}`))
        )
      )
      if (settings.role !== "beat") {
        const workers = yield* startWorkers({
          persist: o.persist ?? persistBatch,
          ...(o.queues ? { queues: o.queues } : {})
        })
        yield* Effect.logInfo(`orchestrator: ${workers.length} queue workers started`)
      }
      if (settings.role !== "worker")
        yield* registerBeat.pipe(
          Effect.retry(Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(5)))),
          Effect.catchAll((e) => Effect.logError(`beat registration failed: ${e.message}`))
        )
      yield* Effect.forkScoped(pollDepth(settings.depthPollMs))
    })
  )

/** Ports to compliance, chain and knowledge, plus settings from the environment. */
export const OrchestratorPortsLive = Layer.mergeAll(
  AuditPortLive,
  ChainPortLive,
  KnowledgePortLive,
  OrchestratorSettings.layer
)

export const OrchestratorLive = orchestratorBody().pipe(Layer.provide(OrchestratorPortsLive))
