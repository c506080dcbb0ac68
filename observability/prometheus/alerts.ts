/**
 * Alert rules that are not SLO burn alerts: service health, database, chain, audit, queues,
 * resources, Redis. Thresholds live in `Thresholds`; the promtool tests in `tests/` pin their behaviour.
 */
import { ServiceNames } from "../../shared/ServiceCatalog.js"
import type { RuleGroup } from "../rules.js"
import { Backups } from "../topology.js"
import {
  Metrics,
  chainFailureRatio,
  eq,
  httpErrorRatio,
  httpLatencyQuantile,
  nre,
  re,
  sel,
  sumRate
} from "../promql.js"

export const Thresholds = {
  serviceDownFor: "1m",
  errorRatio: 0.1,
  latencyP95Seconds: 2,
  dbSlowQueryP95Seconds: 1,
  chainFailureRatio: 0.1,
  queueBacklogJobs: 1000,
  /** scan log entries (each one gateway turn's scans) the relay has not moved: a relay that runs keeps a few */
  scanLogBacklogEntries: 1000,
  escalationRatio: 0.05,
  cpuBusyRatio: 0.9,
  memoryUsedRatio: 0.9,
  diskUsedRatio: 0.85,
  containerMemoryOfLimit: 0.9,
  redisMemoryOfMax: 0.9
} as const

/** Label a scrape job puts on each Brand.Me service target (see `targets.ts`). */
export const AppTier = eq("tier", "app")

/**
 * `expr`, or the absence of each series it needs: a workload whose pods are all gone (or whose monitor is
 * deleted) leaves no `up` series at all, which `== 0` cannot see. `absent()` keeps the equality matchers as
 * labels, so the alert still names the service.
 */
export const orAbsent = (expr: string, selectors: ReadonlyArray<string>): string =>
  [expr, ...selectors.map((s) => `absent(${s})`)].join("\nor\n")

/** The data-store exporters the rules read (RedisMemoryHigh): absent, those alerts could never fire. */
export const WatchedExporters = ["postgres", "redis", "nats"] as const

const pct = (r: number) => `${Math.round(r * 100)}%`

const serviceHealth: RuleGroup = {
  name: "service-health",
  alerts: [
    {
      alert: "ServiceDown",
      expr: orAbsent(
        `${sel("up", [AppTier])} == 0`,
        ServiceNames.map((s) => sel("up", [AppTier, eq("service", s)]))
      ),
      for: Thresholds.serviceDownFor,
      severity: "critical",
      runbook: "service-down",
      summary: "{{ $labels.service }} is down",
      description: `Prometheus has failed to scrape {{ $labels.service }}{{ with $labels.instance }} at {{ . }}{{ else }} (no target left: every pod is gone){{ end }} for over ${Thresholds.serviceDownFor}.`
    },
    {
      alert: "ExporterDown",
      expr: orAbsent(
        `${sel("up", [eq("tier", "exporter"), re("service", WatchedExporters.join("|"))])} == 0`,
        WatchedExporters.map((s) => sel("up", [eq("tier", "exporter"), eq("service", s)]))
      ),
      for: "5m",
      severity: "warning",
      runbook: "exporter-down",
      summary: "The {{ $labels.service }} exporter is down",
      description:
        "Prometheus cannot scrape the {{ $labels.service }} exporter{{ with $labels.instance }} at {{ . }}{{ end }}: alerts on {{ $labels.service }} metrics (RedisMemoryHigh) cannot fire until it is back."
    },
    {
      alert: "HighErrorRate",
      expr: `(\n${httpErrorRatio([], "5m", ["service"])}\n) > ${Thresholds.errorRatio}`,
      for: "5m",
      severity: "warning",
      runbook: "high-error-rate",
      summary: "{{ $labels.service }} answers more than " + pct(Thresholds.errorRatio) + " of requests with 5xx",
      description: "{{ $value | humanizePercentage }} of {{ $labels.service }} requests failed over the last 5 minutes."
    },
    {
      alert: "HighLatency",
      expr: `${httpLatencyQuantile(0.95, [], "5m", ["service"])} > ${Thresholds.latencyP95Seconds}`,
      for: "10m",
      severity: "warning",
      runbook: "high-latency",
      summary: `{{ $labels.service }} p95 latency above ${Thresholds.latencyP95Seconds}s`,
      description: "p95 request duration of {{ $labels.service }} is {{ $value | humanizeDuration }}."
    }
  ]
}

const pool = (state: string) => `max by (service, instance) (${sel(Metrics.dbPool, [eq("state", state)])})`

const database: RuleGroup = {
  name: "database",
  alerts: [
    {
      alert: "DatabasePoolExhausted",
      // every connection is out and callers are queueing for one
      expr: `(${pool("total")} >= ${pool("max")})\nand\n(${pool("waiting")} > 0)`,
      for: "2m",
      severity: "critical",
      runbook: "database-pool-exhausted",
      summary: "{{ $labels.service }} database pool exhausted",
      description:
        "All pooled connections of {{ $labels.service }} ({{ $labels.instance }}) are in use and requests wait for one."
    },
    {
      alert: "DatabaseSlowQueries",
      expr: `histogram_quantile(0.95, ${sumRate(Metrics.dbQueryBucket, [], "5m", ["service", "operation", "le"])}) > ${Thresholds.dbSlowQueryP95Seconds}`,
      for: "10m",
      severity: "warning",
      runbook: "slow-queries",
      summary: "Slow {{ $labels.operation }} queries in {{ $labels.service }}",
      description:
        "p95 duration of {{ $labels.operation }} queries in {{ $labels.service }} is {{ $value | humanizeDuration }}."
    }
  ]
}

const chain: RuleGroup = {
  name: "blockchain",
  alerts: [
    {
      alert: "ChainTransactionFailures",
      expr: `(\n${chainFailureRatio("1h", ["provider"])}\n) > ${Thresholds.chainFailureRatio}`,
      for: "15m",
      severity: "warning",
      runbook: "chain-transaction-failures",
      labels: { service: "chain" },
      summary: `More than ${pct(Thresholds.chainFailureRatio)} of chain transactions fail ({{ $labels.provider }})`,
      description:
        "{{ $value | humanizePercentage }} of anchoring transactions through {{ $labels.provider }} failed in the last hour."
    }
  ]
}

const violations = Metrics.auditViolations

const audit: RuleGroup = {
  name: "audit",
  alerts: [
    {
      alert: "AuditIntegrityViolation",
      // the second arm catches a series born already at 1, which increase() cannot see
      expr: `sum by (kind) (increase(${violations}[15m])) > 0\nor\nsum by (kind) (${violations} unless ${violations} offset 15m) > 0`,
      severity: "critical",
      runbook: "audit-integrity-violation",
      labels: { service: "compliance" },
      summary: "Audit log integrity violation ({{ $labels.kind }})",
      description:
        "The compliance verifier found the Merkle audit log {{ $labels.kind }}. Treat as a security incident."
    },
    {
      alert: "HighEscalationRate",
      expr: `sum(rate(${Metrics.escalations}[15m]))\n/\nsum(rate(${Metrics.scans}[15m])) > ${Thresholds.escalationRatio}`,
      for: "15m",
      severity: "warning",
      runbook: "escalation-rate",
      labels: { service: "compliance" },
      summary: `More than ${pct(Thresholds.escalationRatio)} of scans open an escalation`,
      description: "Escalations are {{ $value | humanizePercentage }} of scans over the last 15 minutes."
    }
  ]
}

const queues: RuleGroup = {
  name: "queues",
  alerts: [
    {
      alert: "QueueBacklog",
      expr: `sum by (queue) (${sel(Metrics.queueDepth, [eq("state", "waiting")])}) > ${Thresholds.queueBacklogJobs}`,
      for: "10m",
      severity: "warning",
      runbook: "queue-backlog",
      labels: { service: "orchestrator" },
      summary: "Queue {{ $labels.queue }} has a backlog",
      description: `{{ $value }} jobs wait in {{ $labels.queue }} (threshold ${Thresholds.queueBacklogJobs}).`
    },
    {
      alert: "ScanLogBacklog",
      // the gateway's scan log waiting for the relay (every orchestrator reports the same log: max, not sum)
      expr: `max(${sel(Metrics.queueDepth, [eq("queue", "scans"), eq("state", "logged")])}) > ${Thresholds.scanLogBacklogEntries}`,
      for: "5m",
      severity: "critical",
      runbook: "scan-log-backlog",
      labels: { service: "orchestrator" },
      summary: "Accepted scans are not being relayed from the scan log",
      description: `{{ $value }} scan log entries wait for the relay (threshold ${Thresholds.scanLogBacklogEntries}): accepted scans are not reaching the scans queue.`
    },
    {
      alert: "QueueWorkersDown",
      // no series at all when every worker process is gone: absent() fires then
      expr: orAbsent(`sum(${Metrics.queueWorkers}) == 0`, [Metrics.queueWorkers]),
      for: "2m",
      severity: "critical",
      runbook: "workers-down",
      labels: { service: "orchestrator" },
      summary: "No queue workers are running",
      description:
        "No worker is attached to any queue: scans are not persisted, audit entries not appended, nothing anchored."
    }
  ]
}

const realFs = [nre("fstype", "tmpfs|overlay|squashfs"), nre("mountpoint", "/run.*|/boot.*")]

/** namespace/pod/container where the kubelet's cAdvisor names them, else cAdvisor's own container name */
const containerName =
  "{{ with $labels.pod }}{{ $labels.namespace }}/{{ . }}/{{ $labels.container }}{{ else }}{{ $labels.name }}{{ end }}"

const resources: RuleGroup = {
  name: "resources",
  alerts: [
    {
      alert: "HostHighCpu",
      expr: `1 - avg by (instance) (rate(${sel("node_cpu_seconds_total", [eq("mode", "idle")])}[5m])) > ${Thresholds.cpuBusyRatio}`,
      for: "10m",
      severity: "warning",
      runbook: "resource-pressure",
      summary: "CPU of {{ $labels.instance }} above " + pct(Thresholds.cpuBusyRatio),
      description: "{{ $labels.instance }} has been {{ $value | humanizePercentage }} busy for 10 minutes."
    },
    {
      alert: "HostHighMemory",
      expr: `1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > ${Thresholds.memoryUsedRatio}`,
      for: "10m",
      severity: "warning",
      runbook: "resource-pressure",
      summary: "Memory of {{ $labels.instance }} above " + pct(Thresholds.memoryUsedRatio),
      description: "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory."
    },
    {
      alert: "HostDiskSpaceLow",
      expr: `1 - ${sel("node_filesystem_avail_bytes", realFs)} / ${sel("node_filesystem_size_bytes", realFs)} > ${Thresholds.diskUsedRatio}`,
      for: "10m",
      severity: "warning",
      runbook: "resource-pressure",
      summary: "Disk {{ $labels.mountpoint }} of {{ $labels.instance }} above " + pct(Thresholds.diskUsedRatio),
      description: "{{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full."
    },
    {
      alert: "ContainerMemoryNearLimit",
      // both series come from the same cAdvisor scrape with the same labels: matched on all of them, so the alert
      // keeps the kubelet's namespace / pod / container (in a cluster `name` is only the container's runtime id)
      expr: `${sel("container_memory_working_set_bytes", [re("name", ".+")])}\n/\n(${sel("container_spec_memory_limit_bytes", [re("name", ".+")])} > 0)\n> ${Thresholds.containerMemoryOfLimit}`,
      for: "10m",
      severity: "warning",
      runbook: "resource-pressure",
      summary: `Container ${containerName} near its memory limit`,
      description: `${containerName} uses {{ $value | humanizePercentage }} of its memory limit.`
    }
  ]
}

const backupSuccess = sel("redis_key_value", [eq("key", Backups.successKey)])

const backups: RuleGroup = {
  name: "backups",
  alerts: [
    {
      alert: "BackupStale",
      // absent: no backup has ever succeeded here, or the queue Redis' exporter does not watch the key
      expr: orAbsent(`time() - max(${backupSuccess}) > ${Backups.maxAgeSeconds}`, [backupSuccess]),
      for: "15m",
      // Cloud SQL's own backups and PITR still run: a lost night is a ticket, not a page
      severity: "warning",
      runbook: "backup-failure",
      labels: { service: "postgres" },
      summary: "No successful database backup for over a day",
      description: `The last successful npm run backup (schedule ${Backups.schedule} UTC) {{ if gt $value 1.0 }}finished {{ $value | humanizeDuration }} ago{{ else }}is not recorded at all{{ end }}; allowed: ${Backups.maxAgeSeconds / 3600}h.`
    }
  ]
}

const redis: RuleGroup = {
  name: "redis",
  alerts: [
    {
      alert: "RedisMemoryHigh",
      expr: `redis_memory_used_bytes / (redis_memory_max_bytes > 0) > ${Thresholds.redisMemoryOfMax}`,
      for: "5m",
      severity: "warning",
      runbook: "redis-memory",
      summary: "Redis {{ $labels.instance }} near maxmemory",
      description:
        "Redis uses {{ $value | humanizePercentage }} of maxmemory; eviction (or refusal of writes) is close."
    }
  ]
}

export const AlertGroups: ReadonlyArray<RuleGroup> = [
  serviceHealth,
  database,
  chain,
  audit,
  queues,
  resources,
  redis,
  backups
]
