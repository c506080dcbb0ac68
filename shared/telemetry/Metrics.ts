import { Context, Layer } from "effect"
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"
import type { ServiceName } from "../ServiceCatalog.js"
import { MetricCatalog, type MetricSpec } from "./MetricCatalog.js"

type Catalog = typeof MetricCatalog
type InstrumentOf<S extends MetricSpec> = S["type"] extends "counter"
  ? Counter<string>
  : S["type"] extends "gauge"
    ? Gauge<string>
    : Histogram<string>

export type Instruments = { readonly [K in keyof Catalog]: InstrumentOf<Catalog[K]> }

export interface ServiceMetrics {
  readonly service: ServiceName
  readonly registry: Registry
  readonly m: Instruments
}

/**
 * One prom-client registry per service (so the all-in-one process exposes each service's own
 * series on its own port), holding the process's default metrics and every catalog metric.
 */
export class Metrics extends Context.Tag("brandme/Metrics")<Metrics, ServiceMetrics>() {}

const instrument = (spec: MetricSpec, registry: Registry): Counter<string> | Gauge<string> | Histogram<string> => {
  const base = { name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [registry] }
  switch (spec.type) {
    case "counter":
      return new Counter(base)
    case "gauge":
      return new Gauge(base)
    case "histogram":
      return new Histogram({ ...base, buckets: [...(spec.buckets ?? [])] })
  }
}

export const makeServiceMetrics = (service: ServiceName): ServiceMetrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // `instrument` builds the class named by each spec's literal `type`, which is what `Instruments` states;
  // TypeScript cannot follow a mapped type through Object.entries, hence the single assertion here.
  const m = Object.fromEntries(
    Object.entries(MetricCatalog).map(([k, spec]) => [k, instrument(spec, registry)])
  ) as unknown as Instruments
  return { service, registry, m }
}

export const MetricsLive = (service: ServiceName) => Layer.sync(Metrics, () => makeServiceMetrics(service))
