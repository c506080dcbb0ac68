import { Effect, Layer, Schedule } from "effect"
import { Nats } from "../../shared/layers/Nats.js"
import { Queues } from "../../shared/layers/Queues.js"
import { Redis } from "../../shared/layers/Redis.js"
import { registerBeat } from "./Beat.js"
import { EventSubjects } from "../../shared/events/ScanEventSubjects.js"
import { pollDepth } from "./QueueStats.js"
import { checkRedisRoles } from "./RedisRoles.js"
import type { PersistBatch } from "./scans/Batcher.js"
import { OrchestratorSettings } from "./Settings.js"
import type { QueueName } from "../../shared/layers/Queues.js"

export interface OrchestratorOptions {
  readonly queues?: ReadonlyArray<QueueName>
  readonly persist?: PersistBatch
}

/**
 * What every role runs: Redis role checks, the scans stream, the queue depth gauge, and (beat and all) the job
 * schedulers. It loads none of the workers' modules (tasks, ports, the audit log, the Cardano SDK).
 */
export const orchestratorCommon = Layer.scopedDiscard(
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
    if (settings.role !== "worker")
      yield* registerBeat.pipe(
        Effect.retry(Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(5)))),
        Effect.catchAll((e) => Effect.logError(`beat registration failed: ${e.message}`))
      )
    yield* Effect.forkScoped(pollDepth(settings.depthPollMs))
  })
)

/**
 * A worker role's modules, listed once: the workers (with the tasks and the scan slice), the batch writer and the
 * live ports (they load the audit log and the Cardano SDK). Imported only by a worker role, never by the beat.
 */
const workerModules = async () => {
  const [workers, batcher, ports, relay] = await Promise.all([
    import("./Workers.js"),
    import("./scans/Batcher.js"),
    import("./Ports.js"),
    import("./scans/Relay.js")
  ])
  return {
    startWorkers: workers.startWorkers,
    runScanRelay: relay.runScanRelay,
    persistBatch: batcher.persistBatch,
    AuditPortLive: ports.AuditPortLive,
    ChainPortLive: ports.ChainPortLive
  }
}

/**
 * The queue workers and the scan log's relay (roles `worker` and `all`; nothing for `beat`). Their modules are imported here, when a
 * worker role starts, so the beat process never loads them. They stop with the layer's scope (drained first).
 */
export const orchestratorWorkers = (o: OrchestratorOptions = {}) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const settings = yield* OrchestratorSettings
      if (settings.role === "beat") return
      const { startWorkers, persistBatch, runScanRelay } = yield* Effect.promise(workerModules)
      const persist = o.persist ?? persistBatch
      const workers = yield* startWorkers({ persist, ...(o.queues ? { queues: o.queues } : {}) })
      // the process that persists scans also relays the gateway's scan log into their jobs (stopped first on SIGTERM)
      const relays = o.queues === undefined || o.queues.includes("scans")
      if (relays) yield* runScanRelay()
      yield* Effect.logInfo(
        `orchestrator: ${workers.length} queue workers started${relays ? ", scan log relay running" : ""}`
      )
    })
  )

/**
 * Imports a worker role's modules (the workers, the batcher, the live ports) ahead of the server, so a worker
 * process answers ready only once it can take jobs at once: loaded after the listener, they left a "ready" worker
 * without workers for the seconds the import took (the chaos test's kill recovery went past 5 s). The beat
 * imports nothing.
 */
export const preloadRoleModules = Effect.gen(function* () {
  const settings = yield* OrchestratorSettings
  if (settings.role === "beat") return
  yield* Effect.promise(workerModules)
}).pipe(Effect.provide(OrchestratorSettings.layer))

/** The orchestrator process body, by ORCHESTRATOR_ROLE: `worker` runs the queue workers, `beat` registers the job schedulers, `all` does both. */
export const orchestratorBody = (o: OrchestratorOptions = {}) => Layer.merge(orchestratorCommon, orchestratorWorkers(o))

/**
 * Ports to compliance and chain (imported only by a worker role: they load the audit log and the
 * Cardano SDK), provided to the workers; plus the settings from the environment.
 */
export const OrchestratorLive = Layer.merge(
  orchestratorCommon,
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const settings = yield* OrchestratorSettings
      if (settings.role === "beat") return Layer.empty
      const { AuditPortLive, ChainPortLive } = yield* Effect.promise(workerModules)
      return orchestratorWorkers().pipe(Layer.provide(Layer.mergeAll(AuditPortLive, ChainPortLive)))
    })
  )
).pipe(Layer.provide(OrchestratorSettings.layer))
