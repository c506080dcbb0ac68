import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Clock, Context, Duration, Effect, Layer, Ref, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Database, Nats, Queues, Redis } from "../layers/Systems.js"
import type { DependencyError } from "../layers/Errors.js"
import { type Dependency, HealthPaths, type ServiceName, Services } from "../ServiceCatalog.js"
import { Metrics } from "../telemetry/Metrics.js"

/** Health of a service: each dependency checked with a timeout; required ones gate readiness. */
export const DependencyStatus = Schema.Struct({
  status: Schema.Literal("up", "down"),
  required: Schema.Boolean,
  latencyMs: Schema.Number,
  error: Schema.optional(Schema.String),
  pool: Schema.optional(
    Schema.Struct({ total: Schema.Number, idle: Schema.Number, waiting: Schema.Number, max: Schema.Number })
  )
})

export const HealthReport = Schema.Struct({
  status: Schema.Literal("ok", "degraded", "unhealthy"),
  service: Schema.String,
  version: Schema.String,
  uptimeSeconds: Schema.Number,
  timestamp: Schema.String,
  dependencies: Schema.Record({ key: Schema.String, value: DependencyStatus })
})
export type HealthReport = typeof HealthReport.Type

export const ProbeOk = Schema.Struct({ status: Schema.Literal("ok") })

export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  { message: Schema.String, details: Schema.Struct({ failing: Schema.Array(Schema.String), report: HealthReport }) },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class Unhealthy extends Schema.TaggedError<Unhealthy>()(
  "Unhealthy",
  { message: Schema.String, details: HealthReport },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class NotStarted extends Schema.TaggedError<NotStarted>()(
  "NotStarted",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** Every service's API `.add()`s this group. */
export const HealthApi = HttpApiGroup.make("health", { topLevel: true })
  .add(HttpApiEndpoint.get("health", HealthPaths.health).addSuccess(HealthReport).addError(Unhealthy))
  .add(HttpApiEndpoint.get("live", HealthPaths.live).addSuccess(ProbeOk))
  .add(HttpApiEndpoint.get("ready", HealthPaths.ready).addSuccess(HealthReport).addError(NotReady))
  .add(HttpApiEndpoint.get("startup", HealthPaths.startup).addSuccess(ProbeOk).addError(NotStarted))
  .add(HttpApiEndpoint.get("healthz", HealthPaths.simple).addSuccess(HttpApiSchema.Text()))
export type HealthApi = typeof HealthApi

export interface HealthService {
  readonly report: Effect.Effect<HealthReport>
  readonly markStarted: Effect.Effect<void>
  readonly markStopping: Effect.Effect<void>
  readonly started: Effect.Effect<boolean>
  readonly stopping: Effect.Effect<boolean>
}

export class Health extends Context.Tag("brandme/Health")<Health, HealthService>() {}

const CHECK_TIMEOUT = Duration.seconds(2)

type Check = Effect.Effect<void, DependencyError>

/** Builds a service's health from its declared dependencies (ServiceCatalog) and the layers present. */
export const HealthLive = (service: ServiceName) =>
  Layer.effect(
    Health,
    Effect.gen(function* () {
      const config = yield* AppConfig
      const metrics = yield* Metrics
      const db = yield* Effect.serviceOption(Database)
      const redis = yield* Effect.serviceOption(Redis)
      const nats = yield* Effect.serviceOption(Nats)
      const queues = yield* Effect.serviceOption(Queues)
      const spec = Services[service]
      // every query's duration, by operation (DatabaseSlowQueries); the pool's first service takes it
      if (db._tag === "Some")
        db.value.observeQueries((operation, seconds) =>
          metrics.m.dbQueryDuration.observe({ service, operation }, seconds)
        )
      const startedAt = yield* Clock.currentTimeMillis
      const started = yield* Ref.make(false)
      const stopping = yield* Ref.make(false)
      const checks: Record<Dependency, Check | undefined> = {
        database: db._tag === "Some" ? db.value.ping : undefined,
        redis: redis._tag === "Some" ? redis.value.ping : undefined,
        nats: nats._tag === "Some" ? nats.value.ping : undefined,
        queue: queues._tag === "Some" ? queues.value.ping : undefined
      }
      const declared: ReadonlyArray<readonly [Dependency, boolean]> = [
        ...spec.required.map((d) => [d, true] as const),
        ...spec.optional.map((d) => [d, false] as const)
      ]
      const runCheck = (dep: Dependency, required: boolean) =>
        Effect.gen(function* () {
          const check = checks[dep]
          const t0 = performance.now()
          const outcome = yield* (check ?? Effect.fail({ message: "not configured in this process" })).pipe(
            Effect.timeoutFail({ duration: CHECK_TIMEOUT, onTimeout: () => ({ message: "timed out after 2s" }) }),
            Effect.either
          )
          const latencyMs = Math.round((performance.now() - t0) * 100) / 100
          const up = outcome._tag === "Right"
          metrics.m.dependencyUp.set({ service, dependency: dep }, up ? 1 : 0)
          const pool =
            dep === "database" && db._tag === "Some" ? { pool: db.value.poolStats() } : ({} as Record<never, never>)
          if (dep === "database" && db._tag === "Some") {
            const p = db.value.poolStats()
            metrics.m.dbPoolConnections.set({ service, state: "total" }, p.total)
            metrics.m.dbPoolConnections.set({ service, state: "idle" }, p.idle)
            metrics.m.dbPoolConnections.set({ service, state: "waiting" }, p.waiting)
            metrics.m.dbPoolConnections.set({ service, state: "max" }, p.max)
          }
          return [
            dep,
            outcome._tag === "Right"
              ? { status: "up" as const, required, latencyMs, ...pool }
              : { status: "down" as const, required, latencyMs, error: outcome.left.message, ...pool }
          ] as const
        })
      const report = Effect.gen(function* () {
        const results = yield* Effect.all(
          declared.map(([d, r]) => runCheck(d, r)),
          { concurrency: "unbounded" }
        )
        const now = yield* Clock.currentTimeMillis
        const requiredDown = results.some(([, s]) => s.required && s.status === "down")
        const optionalDown = results.some(([, s]) => !s.required && s.status === "down")
        const status: HealthReport["status"] = requiredDown ? "unhealthy" : optionalDown ? "degraded" : "ok"
        return {
          status,
          service,
          version: config.version,
          uptimeSeconds: Math.round((now - startedAt) / 1000),
          timestamp: new Date(now).toISOString(),
          dependencies: Object.fromEntries(results)
        } satisfies HealthReport
      })
      return {
        report,
        markStarted: Ref.set(started, true),
        markStopping: Ref.set(stopping, true),
        started: Ref.get(started),
        stopping: Ref.get(stopping)
      }
    })
  )

/** Names of the required dependencies that are down, for the readiness message. */
export const failingRequired = (r: HealthReport): ReadonlyArray<string> =>
  Object.entries(r.dependencies)
    .filter(([, s]) => s.required && s.status === "down")
    .map(([name]) => name)
