import { Effect, ExecutionStrategy, Layer, Option, Schema, Scope } from "effect"
import { AppConfig } from "../shared/config/AppConfig.js"
import { EventSubjects, eventSubjects } from "../shared/events/ScanEventSubjects.js"
import { ScanPathSubjects, scanPathSubjects } from "../shared/events/ScanPathSubjects.js"
import { isServiceName, type ServiceName, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { type Infra, ServiceLayers } from "./Registry.js"

export class UnknownService extends Schema.TaggedError<UnknownService>()("UnknownService", {
  message: Schema.String
}) {}

/** `SERVICE=all`, one name, or a comma list. */
export const parseServiceSelection = (value: string): Effect.Effect<ReadonlyArray<ServiceName>, UnknownService> => {
  if (value.trim() === "all") return Effect.succeed(ServiceNames)
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
  const unknown = names.filter((n) => !isServiceName(n))
  if (names.length === 0 || unknown.length > 0) {
    return Effect.fail(
      new UnknownService({
        message: `SERVICE must be "all" or a comma list of ${ServiceNames.join(", ")}; got "${value}"`
      })
    )
  }
  return Effect.succeed(names.filter(isServiceName))
}

/**
 * The process's external systems, each imported and built on first use (by a service's layer that provides
 * it) and then shared by every service of the process: one pool, one set of connections. They live in a
 * scope opened before any service's, so they close after every server has drained.
 */
const makeInfra = (processName: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const once = <A, E>(load: () => Promise<Layer.Layer<A, E, AppConfig>>) =>
      Effect.map(
        Effect.cached(Effect.flatMap(Effect.promise(load), (layer) => Layer.buildWithScope(layer, scope))),
        Layer.effectContext
      )
    return {
      database: yield* once(async () => (await import("../shared/layers/Database.js")).DatabaseLive(processName)),
      redis: yield* once(async () => (await import("../shared/layers/Redis.js")).RedisLive(processName)),
      nats: yield* once(async () => (await import("../shared/layers/Nats.js")).NatsLive(processName)),
      queue: yield* once(async () => (await import("../shared/layers/Queues.js")).QueuesLive(processName))
    } satisfies Infra
  })

/** OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set; the OpenTelemetry SDK is not even loaded otherwise. */
const tracingFor = (service: ServiceName) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const config = yield* AppConfig
      if (Option.isNone(config.telemetry.otlpEndpoint)) return Layer.empty
      return (yield* Effect.promise(() => import("../shared/telemetry/Tracing.js"))).TracingLive(service)
    })
  )

/**
 * Starts the selected services in this process: each service's layer built on its own (its own HTTP
 * server, router and metrics registry) so that several can share one process, on the external systems
 * it uses, opened once per process. Returns when every server listens; they stop when the scope closes.
 */
export interface StartOptions {
  /** replaces the config-driven OTLP tracing (tests pass an in-memory exporter) */
  readonly tracing?: (service: ServiceName) => Layer.Layer<never>
}

export const startServices = (names: ReadonlyArray<ServiceName>, processName: string, options: StartOptions = {}) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const infra = yield* makeInfra(processName)
    // every subject the services publish, subscribe to or capture, under NATS_SUBJECT_PREFIX (empty: the platform's)
    const subjects = Layer.mergeAll(
      Layer.succeed(ScanPathSubjects, scanPathSubjects(config.nats.subjectPrefix)),
      Layer.succeed(EventSubjects, eventSubjects(config.nats.subjectPrefix))
    )
    yield* Effect.forEach(
      names,
      (name) =>
        Effect.promise(() => ServiceLayers[name](infra)).pipe(
          Effect.flatMap((layer) =>
            Layer.build(
              layer.pipe(
                Layer.provide(subjects),
                Layer.provide(options.tracing?.(name) ?? tracingFor(name)),
                Layer.annotateLogs("service", name)
              )
            )
          ),
          Effect.withSpan(`Platform.start.${name}`)
        ),
      { concurrency: "unbounded", discard: true }
    )
    return names.map((n) => ({
      service: n,
      url: `http://localhost:${Services[n].port + config.http.portOffset}`
    }))
  })
