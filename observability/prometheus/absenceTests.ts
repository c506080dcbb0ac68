/**
 * promtool tests of the "X is down / zero" alerts, written from the scrape targets (targets.ts) so every
 * case carries the labels a real scrape gives: ServiceDown, ExporterDown and QueueWorkersDown each fire when
 * their series say so, fire when the series are absent altogether (every pod gone, no worker process left),
 * and stay silent when all is well. Generated: `npm run gen:observability` → tests/absence.test.yml.
 */
import { stringify } from "yaml"
import { ServiceNames } from "../../shared/ServiceCatalog.js"
import { runbookUrl } from "../runbooks.js"
import { header } from "../rules.js"
import { localLabels, type ScrapeTarget, ScrapeTargets, targetOf } from "../targets.js"
import { Backups, LocalHost } from "../topology.js"
import { Thresholds, WatchedExporters } from "./alerts.js"

const instanceOf = (t: ScrapeTarget) => `${LocalHost}:${t.port}`
const labelsOf = (t: ScrapeTarget): Record<string, string> => ({
  job: t.job,
  instance: instanceOf(t),
  ...localLabels(t)
})
const series = (labels: Record<string, string>, metric = "up") =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`
const up = (t: ScrapeTarget, values: string) => ({ series: series(labelsOf(t)), values })

const apps = ServiceNames.map(targetOf)
const exporters = WatchedExporters.map((s) => {
  const t = ScrapeTargets.find((x) => x.tier === "exporter" && x.service === s)
  if (t === undefined) throw new Error(`no exporter target for ${s}`)
  return t
})
const workers = (workersPerQueue: number) =>
  ["scans", "audit"].map((queue) => ({
    series: series({ ...labelsOf(targetOf("orchestrator")), queue }, "brandme_queue_workers"),
    values: `${workersPerQueue}x10`
  }))

const serviceDown = (service: string, instance: string | undefined) => ({
  summary: `${service} is down`,
  description: `Prometheus has failed to scrape ${service}${
    instance === undefined ? " (no target left: every pod is gone)" : ` at ${instance}`
  } for over ${Thresholds.serviceDownFor}.`,
  runbook_url: runbookUrl("service-down")
})

const exporterDown = (service: string, instance: string | undefined) => ({
  summary: `The ${service} exporter is down`,
  description: `Prometheus cannot scrape the ${service} exporter${
    instance === undefined ? "" : ` at ${instance}`
  }: alerts on ${service} metrics (RedisMemoryHigh) cannot fire until it is back.`,
  runbook_url: runbookUrl("exporter-down")
})

const queueWorkersDown = {
  summary: "No queue workers are running",
  description:
    "No worker is attached to any queue: scans are not persisted, audit entries not appended, nothing anchored.",
  runbook_url: runbookUrl("workers-down")
}

const backupStale = (age: string | undefined) => ({
  summary: "No successful database backup for over a day",
  description: `The last successful npm run backup (schedule ${Backups.schedule} UTC) ${
    age === undefined ? "is not recorded at all" : `finished ${age} ago`
  }; allowed: ${Backups.maxAgeSeconds / 3600}h.`,
  runbook_url: runbookUrl("backup-failure")
})

/** The exporter's series of the backup key, as `--check-single-keys` names it. */
const backupSeries = series(
  { ...labelsOf(targetOf("redis-exporter")), db: "db0", key: Backups.successKey },
  "redis_key_value"
)
/** a sample every 4 minutes (inside the 5 min lookback) over 3 days: each day's value is the time of that day's backup (t = 0 h, 24 h, 48 h) */
const nightly = [0, 1, 2].map((d) => `${d * 86400}x359`).join(" ")

const gateway = targetOf("gateway")
const redis = exporters.find((t) => t.service === "redis") ?? gateway

export const absenceTests = () => ({
  rule_files: ["../rules/alerts.yml"],
  evaluation_interval: "1m",
  tests: [
    {
      // ServiceDown: the gateway's scrapes fail, every other service is up
      interval: "1m",
      input_series: apps.map((t) => up(t, t === gateway ? "0x5" : "1x5")),
      alert_rule_test: [
        {
          eval_time: "3m",
          alertname: "ServiceDown",
          exp_alerts: [
            {
              exp_labels: { severity: "critical", ...labelsOf(gateway) },
              exp_annotations: serviceDown("gateway", instanceOf(gateway))
            }
          ]
        }
      ]
    },
    {
      // ServiceDown, absent: the orchestrator has no target at all (its pods are gone)
      interval: "1m",
      input_series: apps.filter((t) => t.job !== "orchestrator").map((t) => up(t, "1x5")),
      alert_rule_test: [
        {
          eval_time: "3m",
          alertname: "ServiceDown",
          exp_alerts: [
            {
              exp_labels: { severity: "critical", service: "orchestrator", tier: "app" },
              exp_annotations: serviceDown("orchestrator", undefined)
            }
          ]
        }
      ]
    },
    {
      // ServiceDown: silent for one missed scrape, healthy services and a down node exporter
      interval: "1m",
      input_series: [
        ...apps.map((t) => up(t, t.job === "brain" ? "1 1 0 1 1 1" : "1x5")),
        up(targetOf("node-exporter"), "0x5")
      ],
      alert_rule_test: [
        { eval_time: "2m", alertname: "ServiceDown", exp_alerts: [] },
        { eval_time: "5m", alertname: "ServiceDown", exp_alerts: [] }
      ]
    },
    {
      // ExporterDown: the Redis exporter's scrapes fail
      interval: "1m",
      input_series: exporters.map((t) => up(t, t === redis ? "0x10" : "1x10")),
      alert_rule_test: [
        {
          eval_time: "7m",
          alertname: "ExporterDown",
          exp_alerts: [
            {
              exp_labels: { severity: "warning", ...labelsOf(redis) },
              exp_annotations: exporterDown("redis", instanceOf(redis))
            }
          ]
        }
      ]
    },
    {
      // ExporterDown, absent: no postgres exporter is scraped at all
      interval: "1m",
      input_series: exporters.filter((t) => t.service !== "postgres").map((t) => up(t, "1x10")),
      alert_rule_test: [
        {
          eval_time: "7m",
          alertname: "ExporterDown",
          exp_alerts: [
            {
              exp_labels: { severity: "warning", service: "postgres", tier: "exporter" },
              exp_annotations: exporterDown("postgres", undefined)
            }
          ]
        }
      ]
    },
    {
      // ExporterDown: silent while every watched exporter answers
      interval: "1m",
      input_series: exporters.map((t) => up(t, "1x10")),
      alert_rule_test: [{ eval_time: "7m", alertname: "ExporterDown", exp_alerts: [] }]
    },
    {
      // QueueWorkersDown, absent: no worker process is left, so no brandme_queue_workers series at all
      interval: "1m",
      input_series: apps.filter((t) => t.job !== "orchestrator").map((t) => up(t, "1x5")),
      alert_rule_test: [
        {
          eval_time: "3m",
          alertname: "QueueWorkersDown",
          exp_alerts: [
            { exp_labels: { severity: "critical", service: "orchestrator" }, exp_annotations: queueWorkersDown }
          ]
        }
      ]
    },
    {
      // QueueWorkersDown: silent while workers are attached
      interval: "1m",
      input_series: workers(2),
      alert_rule_test: [{ eval_time: "3m", alertname: "QueueWorkersDown", exp_alerts: [] }]
    }
  ]
})

/**
 * BackupStale over days of samples: its own file, evaluated every 5 minutes (every minute over 60 hours of
 * every rule takes promtool a minute on this machine).
 */
export const backupTests = () => ({
  rule_files: ["../rules/alerts.yml"],
  evaluation_interval: "5m",
  tests: [
    {
      // BackupStale: the last success was recorded at t=0 and never again; 26 h later plus the 15 min `for`
      interval: "4m",
      input_series: [{ series: backupSeries, values: "0x420" }],
      alert_rule_test: [
        { eval_time: "25h", alertname: "BackupStale", exp_alerts: [] },
        {
          eval_time: "27h",
          alertname: "BackupStale",
          exp_alerts: [
            { exp_labels: { severity: "warning", service: "postgres" }, exp_annotations: backupStale("1d 3h 0m 0s") }
          ]
        }
      ]
    },
    {
      // BackupStale, absent: no backup recorded at all
      interval: "1m",
      input_series: [up(redis, "1x30")],
      alert_rule_test: [
        {
          eval_time: "20m",
          alertname: "BackupStale",
          exp_alerts: [
            {
              exp_labels: { severity: "warning", service: "postgres", key: Backups.successKey },
              exp_annotations: backupStale(undefined)
            }
          ]
        }
      ]
    },
    {
      // BackupStale: silent while each night's backup records its time (the value follows the clock)
      interval: "4m",
      input_series: [{ series: backupSeries, values: nightly }],
      alert_rule_test: [{ eval_time: "50h", alertname: "BackupStale", exp_alerts: [] }]
    }
  ]
})

export const renderBackupTests = (): string =>
  header("observability/prometheus/absenceTests.ts") + stringify(backupTests(), { lineWidth: 0 })

export const renderAbsenceTests = (): string =>
  header("observability/prometheus/absenceTests.ts") + stringify(absenceTests(), { lineWidth: 0 })
