/**
 * Every scrape target, declared once. The local Prometheus config (observability/prometheus/scrape.ts, and
 * compose's, derived from it) and the Kubernetes ServiceMonitors / PodMonitors (stacks: Workload.ts,
 * Exporters.ts, and the relabelings handed to the charts that scrape their own components) are built from
 * these entries, so a target carries the same `job`, `tier`, `service` and `namespace` labels in every
 * shape: the labels the rules and dashboards select on exist by construction (observability/targets.test.ts,
 * stacks/monitoring.test.ts).
 */
import { HealthPaths, MetricsPortName, MetricsPorts, ServiceNames } from "../shared/ServiceCatalog.js"
import { Backends, Exporters } from "./topology.js"

/** The labels a target (not a metric) carries; rules and dashboards may select on these. */
export const TargetLabels = ["job", "tier", "service", "namespace"] as const
export type TargetLabel = (typeof TargetLabels)[number]

export type Tier = "app" | "exporter" | "observability"

/**
 * The namespace label a local run gives each target: the name of the Kubernetes namespace the same target
 * runs in with the dev/prod stacks (staging's app namespace is brandme-staging: the operator sets it there).
 */
export const LocalNamespaces = { app: "brandme", observability: "observability" } as const
export type NamespaceRole = keyof typeof LocalNamespaces

/** How the target is scraped in Kubernetes. */
export type ClusterScrape =
  /** our own ServiceMonitor on our Service, selected by `app.kubernetes.io/name` */
  | { readonly by: "ServiceMonitor"; readonly port: string; readonly selector: Readonly<Record<string, string>> }
  /**
   * a chart's own monitor (its Service or pods), given our relabelings (`tier`, `service`) through the chart's
   * values. The chart keeps its `job` (`clusterJob`, undefined where the chart derives it): the charts' own rules
   * and dashboards (kubernetes-mixin: `job="kubelet"`) select on it, so ours never select chart targets by job.
   */
  | {
      readonly by: "chart"
      readonly chart: string
      readonly monitor: "ServiceMonitor" | "PodMonitor"
      readonly clusterJob: string | undefined
    }

export interface ScrapeTarget {
  readonly job: string
  readonly tier: Tier
  /** a fixed `service` label (the catalog service, or the data service an exporter watches) */
  readonly service?: string
  readonly namespace: NamespaceRole
  /** local port (127.0.0.1 locally, the compose host in compose) */
  readonly port: number
  readonly path: string
  /** keep the metrics' own `service` label (catalog metrics carry one) rather than renaming it `exported_service` */
  readonly honorLabels: boolean
  /** metric name prefixes the target exposes: a selector on such a metric is fed by this target */
  readonly metrics: ReadonlyArray<string>
  readonly cluster: ClusterScrape
}

const app = (service: (typeof ServiceNames)[number]): ScrapeTarget => ({
  job: service,
  tier: "app",
  service,
  namespace: "app",
  port: MetricsPorts[service],
  path: HealthPaths.metrics,
  honorLabels: true,
  // every catalog metric, the process' default metrics, and Prometheus' own `up` / `scrape_*`
  metrics: ["brandme_", "process_", "nodejs_"],
  // one ServiceMonitor per Deployment (the orchestrator's worker and beat each have theirs, same labels)
  cluster: { by: "ServiceMonitor", port: MetricsPortName, selector: { "app.kubernetes.io/name": service } }
})

export const ScrapeTargets: ReadonlyArray<ScrapeTarget> = [
  ...ServiceNames.map(app),
  {
    job: "postgres-exporter",
    tier: "exporter",
    service: "postgres",
    namespace: "app",
    port: Exporters["postgres-exporter"].port,
    path: Exporters["postgres-exporter"].path,
    honorLabels: false,
    metrics: ["pg_"],
    cluster: { by: "ServiceMonitor", port: "metrics", selector: { "app.kubernetes.io/name": "postgres-exporter" } }
  },
  {
    job: "redis-exporter",
    tier: "exporter",
    service: "redis",
    namespace: "app",
    port: Exporters["redis-exporter"].port,
    path: Exporters["redis-exporter"].path,
    honorLabels: false,
    metrics: ["redis_"],
    cluster: { by: "ServiceMonitor", port: "metrics", selector: { "app.kubernetes.io/name": "redis-exporter" } }
  },
  {
    job: "nats-exporter",
    tier: "exporter",
    service: "nats",
    namespace: "app",
    port: Exporters["nats-exporter"].port,
    path: Exporters["nats-exporter"].path,
    honorLabels: false,
    metrics: ["gnatsd_", "nats_", "jetstream_"],
    cluster: { by: "chart", chart: "nats", monitor: "PodMonitor", clusterJob: undefined }
  },
  {
    job: "node-exporter",
    tier: "exporter",
    namespace: "observability",
    port: Exporters["node-exporter"].port,
    path: Exporters["node-exporter"].path,
    honorLabels: false,
    metrics: ["node_"],
    cluster: {
      by: "chart",
      chart: "kube-prometheus-stack/prometheus-node-exporter",
      monitor: "ServiceMonitor",
      clusterJob: "node-exporter"
    }
  },
  {
    job: "cadvisor",
    tier: "exporter",
    namespace: "observability",
    port: Exporters.cadvisor.port,
    path: Exporters.cadvisor.path,
    honorLabels: false,
    metrics: ["container_", "machine_"],
    cluster: { by: "chart", chart: "kube-prometheus-stack/kubelet", monitor: "ServiceMonitor", clusterJob: "kubelet" }
  },
  ...(
    [
      ["prometheus", Backends.prometheus.port, "kube-prometheus-stack/prometheus", ["prometheus_"]],
      ["alertmanager", Backends.alertmanager.port, "kube-prometheus-stack/alertmanager", ["alertmanager_"]],
      ["otel-collector", Backends.otelCollector.metricsExporterPort, "otel-collector", ["otelcol_"]],
      ["loki", Backends.loki.port, "loki", ["loki_"]]
    ] as const
  ).map(
    ([job, port, chart, metrics]): ScrapeTarget => ({
      job,
      tier: "observability",
      namespace: "observability",
      port,
      path: "/metrics",
      honorLabels: false,
      metrics,
      cluster: { by: "chart", chart, monitor: "ServiceMonitor", clusterJob: undefined }
    })
  ),
  {
    job: "tempo",
    tier: "observability",
    namespace: "observability",
    port: Backends.tempo.port,
    path: "/metrics",
    honorLabels: false,
    metrics: ["tempo_", "traces_"],
    // the chart's ServiceMonitor also scrapes a port only tempo-query has: ours (stacks Observability.ts)
    cluster: { by: "ServiceMonitor", port: "tempo-prom-metrics", selector: { "app.kubernetes.io/name": "tempo" } }
  }
]

export const targetOf = (job: string): ScrapeTarget => {
  const t = ScrapeTargets.find((x) => x.job === job)
  if (t === undefined) throw new Error(`no scrape target ${job}`)
  return t
}

/** The target labels a local scrape gives (the `job` label comes from job_name). */
export const localLabels = (t: ScrapeTarget): Record<string, string> => ({
  ...(t.service === undefined ? {} : { service: t.service }),
  tier: t.tier,
  namespace: LocalNamespaces[t.namespace]
})

/**
 * Prometheus Operator relabelings (applied after the operator's own, which set `job` to the Service name,
 * `namespace`, `service`, `pod`, `container`, `endpoint`): `job` (our own monitors only), `tier` and `service`
 * as the local scrape config has them; `namespace` stays the target's real namespace.
 */
export const monitorRelabelings = (t: ScrapeTarget): ReadonlyArray<Record<string, string>> => [
  ...(t.cluster.by === "chart" ? [] : [{ action: "replace", targetLabel: "job", replacement: t.job }]),
  { action: "replace", targetLabel: "tier", replacement: t.tier },
  ...(t.service === undefined ? [] : [{ action: "replace", targetLabel: "service", replacement: t.service }])
]

/** A ServiceMonitor endpoint for a target we scrape with our own ServiceMonitor. */
export const serviceMonitorEndpoint = (t: ScrapeTarget) => ({
  port: t.cluster.by === "ServiceMonitor" ? t.cluster.port : MetricsPortName,
  path: t.path,
  interval: "15s",
  scrapeTimeout: "10s",
  ...(t.honorLabels ? { honorLabels: true } : {}),
  relabelings: [...monitorRelabelings(t)]
})
