import { Effect, Layer, Schema } from "effect"
import { AppConfig } from "../shared/config/AppConfig.js"
import { InfraLive } from "../shared/layers/Infra.js"
import { isServiceName, type ServiceName, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { TracingLive } from "../shared/telemetry/Tracing.js"
import { ServiceLayers } from "./Registry.js"

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
 * Starts the selected services in this process: the external systems once, then each service's
 * layer built on its own (its own HTTP server, router and metrics registry) so that several can
 * share one process. Returns when every server listens; they stop when the scope closes.
 */
export interface StartOptions {
  /** replaces the config-driven OTLP tracing (tests pass an in-memory exporter) */
  readonly tracing?: (service: ServiceName) => Layer.Layer<never>
}

export const startServices = (names: ReadonlyArray<ServiceName>, processName: string, options: StartOptions = {}) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const infra = yield* Layer.build(InfraLive(processName))
    const context = Layer.succeedContext(infra)
    yield* Effect.forEach(
      names,
      (name) =>
        Layer.build(
          ServiceLayers[name].pipe(
            Layer.provide(context),
            Layer.provide(options.tracing?.(name) ?? TracingLive(name)),
            Layer.annotateLogs("service", name)
          )
        ).pipe(Effect.withSpan(`Platform.start.${name}`)),
      { concurrency: "unbounded", discard: true }
    )
    const urls = names.map((n) => ({
      service: n,
      url: `http://localhost:${Services[n].port + config.http.portOffset}`
    }))
    return urls
  })
