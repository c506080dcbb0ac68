/**
 * `prometheus.yml` for local runs, one job per declared scrape target (observability/targets.ts): each
 * service on its metrics port, each exporter, the observability components; labels as the ServiceMonitors'.
 */
import { stringify } from "yaml"
import { header } from "../rules.js"
import { localLabels, type ScrapeTarget, ScrapeTargets } from "../targets.js"
import { Backends, EvaluationInterval, LocalHost, ScrapeInterval } from "../topology.js"

/** Rule files, relative to prometheus.yml. */
export const RuleFiles = ["rules/alerts.yml", "rules/slo.yml"] as const

const job = (t: ScrapeTarget) => ({
  job_name: t.job,
  ...(t.honorLabels ? { honor_labels: true } : {}),
  metrics_path: t.path,
  static_configs: [{ targets: [`${LocalHost}:${t.port}`], labels: localLabels(t) }]
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
  scrape_configs: ScrapeTargets.map(job)
})

export const renderPrometheusConfig = (): string =>
  header("observability/prometheus/scrape.ts") + stringify(prometheusConfig(), { lineWidth: 0 })
