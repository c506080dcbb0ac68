import type { ServeError } from "@effect/platform/HttpServerError"
import type { SqlError } from "@effect/sql/SqlError"
import { type ConfigError, Layer } from "effect"
import type { AppConfig } from "../shared/config/AppConfig.js"
import type { DatabaseLive } from "../shared/layers/Database.js"
import type { NatsLive } from "../shared/layers/Nats.js"
import type { QueuesLive } from "../shared/layers/Queues.js"
import type { RedisLive } from "../shared/layers/Redis.js"
import type { ServiceName } from "../shared/ServiceCatalog.js"
import type { ChainConfigError } from "./chain/Port.js"

/** the layer a `(processName) => Layer` of shared/layers builds, on the process's AppConfig */
type Built<L> = L extends (name: string) => Layer.Layer<infer A, infer E, infer _R>
  ? Layer.Layer<A, E, AppConfig>
  : never

/**
 * The external systems of a process, one layer each, built at most once per process and only when a
 * service's layer provides it (services/Platform.ts): brain opens no pool, the gateway opens all four.
 */
export interface Infra {
  readonly database: Built<typeof DatabaseLive>
  readonly redis: Built<typeof RedisLive>
  readonly nats: Built<typeof NatsLive>
  readonly queue: Built<typeof QueuesLive>
}

export type ServiceStartError = ServeError | ConfigError.ConfigError | ChainConfigError | SqlError

/**
 * Each service's process layer (its HTTP server plus whatever runs beside it: workers, consumers) on the
 * external systems it uses. A service's modules are imported only when it is started, so a process loads
 * the code of its own services and no other's; the systems each provides here are the ones its catalog
 * entry declares (`required`/`optional`; services/Footprint.itest.ts holds the two together).
 */
export const ServiceLayers: {
  readonly [S in ServiceName]: (infra: Infra) => Promise<Layer.Layer<never, ServiceStartError, AppConfig>>
} = {
  gateway: async ({ database, redis, nats, queue }) =>
    (await import("./gateway/Http.js")).GatewayHttpLive.pipe(Layer.provide([database, redis, nats, queue])),
  brain: async () => (await import("./brain/Http.js")).BrainHttpLive,
  // policy records its rules version and identity a jurisdiction change in the audit log (a job on the queue)
  policy: async ({ database, redis, nats, queue }) =>
    (await import("./policy/Http.js")).PolicyHttpLive.pipe(Layer.provide([database, redis, nats, queue])),
  identity: async ({ database, redis, nats, queue }) =>
    (await import("./identity/Http.js")).IdentityHttpLive.pipe(Layer.provide([database, redis, nats, queue])),
  knowledge: async ({ database, redis, nats }) =>
    (await import("./knowledge/Http.js")).KnowledgeHttpLive.pipe(Layer.provide([database, redis, nats])),
  compliance: async ({ database, redis }) =>
    (await import("./compliance/Http.js")).ComplianceHttpLive.pipe(Layer.provide([database, redis])),
  chain: async ({ database, redis }) =>
    (await import("./chain/Http.js")).ChainHttpLive.pipe(Layer.provide([database, redis])),
  agentic: async ({ database, redis, nats }) =>
    (await import("./agentic/Http.js")).AgenticHttpLive.pipe(Layer.provide([database, redis, nats])),
  orchestrator: async ({ database, redis, nats, queue }) =>
    (await import("./orchestrator/Http.js")).OrchestratorHttpLive.pipe(Layer.provide([database, redis, nats, queue])),
  console: async () => (await import("./console/Http.js")).ConsoleHttpLive
}
