/**
 * `prometheus.yml` for local runs, built from the service catalog and the topology so no port is
 * copied by hand: one job per service, one per exporter, plus the observability components.
 */
import { stringify } from "yaml"
import { HealthPaths, ServiceNames, Services } from "../../shared/ServiceCatalog.js"
import { header } from "../rules.js"
import { Backends, EvaluationInterval, Exporters, LocalHost, ScrapeInterval } from "../topology.js"

/** Rule files, relative to prometheus.yml. */
export const RuleFiles = ["rules/alerts.yml", "rules/slo.yml"] as const

const job = (name: string, port: number, path: string, labels: Record<string, string>, honorLabels = false) => ({
  job_name: name,
  // catalog metrics carry their own `service` label: keep it rather than renaming it `exported_service`
  ...(honorLabels ? { honor_labels: true } : {}),
  metrics_path: path,
  static_configs: [{ targets: [`${LocalHost}:${port}`], labels }]
})

export const prometheusConfig = () => ({
  global: {
    scrape_interval: ScrapeInterval,
    evaluation_interval: EvaluationInterval,
    external_labels: { environment: "development" }
  },
  alerting: {
    alertmanagers: [{ static_configs: [{ targets: [`${LocalHost}:${Backends.alertmanager.port}`] }] }]
  },
  rule_files: [...RuleFiles],
  scrape_configs: [
    ...ServiceNames.map((name) =>
      job(name, Services[name].port, HealthPaths.metrics, { service: name, tier: "app" }, true)
    ),
    ...Object.entries(Exporters).map(([name, e]) => job(name, e.port, e.path, { tier: "exporter" })),
    job("prometheus", Backends.prometheus.port, "/metrics", { tier: "observability" }),
    job("alertmanager", Backends.alertmanager.port, "/metrics", { tier: "observability" }),
    job("otel-collector", Backends.otelCollector.metricsExporterPort, "/metrics", { tier: "observability" }),
    job("loki", Backends.loki.port, "/metrics", { tier: "observability" }),
    job("tempo", Backends.tempo.port, "/metrics", { tier: "observability" })
  ]
})

export const renderPrometheusConfig = (): string =>
  header("observability/prometheus/scrape.ts") + stringify(prometheusConfig(), { lineWidth: 0 })
