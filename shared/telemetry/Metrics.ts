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

/**
 * How often the process's event-loop delay is sampled (`nodejs_eventloop_lag_*`), in ms. prom-client's default, 10,
 * is a timer that wakes an idle process 100 times a second for each registry (one per service in the process: nine
 * in `npm start`): idle, `npm start` used 6.6 % of a core with it and 2.9 % with 100 (docs/memory.md). A stall still
 * shows: the next sample fires late by as much.
 */
export const EVENT_LOOP_SAMPLE_MS = 100

export const makeServiceMetrics = (service: ServiceName): ServiceMetrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
  // `instrument` builds the class named by each spec's literal `type`, which is what `Instruments` states;
  // TypeScript cannot follow a mapped type through Object.entries, hence the single assertion here.
  const m = Object.fromEntries(
    Object.entries(MetricCatalog).map(([k, spec]) => [k, instrument(spec, registry)])
  ) as unknown as Instruments
  return { service, registry, m }
}

export const MetricsLive = (service: ServiceName) => Layer.sync(Metrics, () => makeServiceMetrics(service))
