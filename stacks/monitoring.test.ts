import { beforeAll, describe, expect, it } from "vitest"
import { allDashboards } from "../observability/grafana/dashboards.js"
import { type Selector, satisfies, selectorsIn } from "../observability/selectors.js"
import { type ScrapeTarget, ScrapeTargets, TargetLabels } from "../observability/targets.js"
import { allRules, arr, readYaml, rec, str } from "../observability/testSupport.js"
import { MetricsPortName, MetricsPorts, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { Backups } from "../observability/topology.js"
import { BackupCommand, BackupDir } from "./components/AppServices.js"
import { LogsPipeline } from "../observability/logsAgent.js"
import { ExporterDeployments } from "./components/Exporters.js"
import { Charts } from "./charts.js"
import { loadFixture } from "./offline/chartFixtures.js"
import { helmReleases } from "./offline/chartValues.js"
import { runStack, type ProgramRun } from "./offline/harness.js"
import { clusterTargets } from "./offline/monitors.js"
import { isExporter, kubernetesObjects } from "./offline/render.js"

/**
 * Labels by construction: the local scrape config (observability/prometheus/prometheus.yml, generated) and the
 * monitors of the rendered dev stack (our ServiceMonitors; the charts' monitors with the relabelings we hand
 * them) both come from observability/targets.ts. For every selector of every rule and every dashboard query,
 * at least one local target and at least one cluster target feed the metric and carry the target labels
 * (`job`, `tier`, `service`, `namespace`) the selector matches on.
 */

interface AnyTarget {
  readonly where: string
  readonly labels: Readonly<Record<string, string>>
  readonly declared: ScrapeTarget | undefined
}

/** Series every target has, whatever it exposes. */
const SyntheticSeries = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"])

const localTargets = (): ReadonlyArray<AnyTarget> => {
  const cfg = readYaml("prometheus/prometheus.yml")
  return arr(cfg, "scrape_configs").map((_, i) => {
    const job = str(cfg, "scrape_configs", i, "job_name")
    const labels = rec(cfg, "scrape_configs", i, "static_configs", 0, "labels")
    return {
      where: `local job ${job}`,
      labels: { job, ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])) },
      declared: ScrapeTargets.find((t) => t.job === job)
    }
  })
}

const feeds = (t: AnyTarget, s: Selector): boolean =>
  (SyntheticSeries.has(s.metric) || (t.declared?.metrics ?? []).some((p) => s.metric.startsWith(p))) &&
  s.matchers
    .filter((m) => (TargetLabels as ReadonlyArray<string>).includes(m.label))
    .every((m) => satisfies(m, t.labels[m.label]))

interface Query {
  readonly where: string
  readonly expr: string
}

const ruleQueries = (): ReadonlyArray<Query> =>
  allRules().map((r) => ({
    where: `${r.file} ${String(r.rule.alert ?? r.rule.record)}`,
    expr: String(r.rule.expr)
  }))

const dashboardQueries = (): ReadonlyArray<Query> =>
  allDashboards().flatMap(({ dashboard: d }) =>
    (d.panels ?? []).flatMap((p) =>
      ("targets" in p && Array.isArray(p.targets) ? p.targets : []).flatMap((t) =>
        typeof t === "object" && t !== null && "expr" in t && typeof t.expr === "string"
          ? [{ where: `dashboard ${d.uid ?? ""} / ${"title" in p ? String(p.title) : ""}`, expr: t.expr }]
          : []
      )
    )
  )

const recorded = new Set(allRules().flatMap((r) => (typeof r.rule.record === "string" ? [r.rule.record] : [])))

/** Selectors no target of one kind feeds; recorded series must be recorded by a rule. */
const unfed = (queries: ReadonlyArray<Query>, kinds: Record<string, ReadonlyArray<AnyTarget>>): ReadonlyArray<string> =>
  queries.flatMap((q) =>
    selectorsIn(q.expr).flatMap((s) => {
      if (s.metric.includes(":"))
        return recorded.has(s.metric) ? [] : [`${q.where}: ${s.metric} is recorded by no rule`]
      if (s.metric === "ALERTS" || s.metric === "ALERTS_FOR_STATE") return []
      return Object.entries(kinds).flatMap(([kind, targets]) =>
        targets.some((t) => feeds(t, s))
          ? []
          : [
              `${q.where}: no ${kind} target feeds ${s.metric}{${s.matchers.map((m) => `${m.label}${m.op}"${m.value}"`).join(",")}}`
            ]
      )
    })
  )

describe("labels by construction: local scrape config and the dev stack's monitors", () => {
  let run: ProgramRun
  let cluster: ReadonlyArray<AnyTarget>
  beforeAll(async () => {
    run = await runStack("dev")
    cluster = clusterTargets(run.resources)
  }, 120_000)

  it("every declared target is scraped in both shapes, with the same tier and service (and job, on our monitors)", () => {
    const local = localTargets()
    for (const t of ScrapeTargets) {
      const l = local.filter((x) => x.declared === t)
      const c = cluster.filter((x) => x.declared === t)
      expect(l, `local ${t.job}`).toHaveLength(1)
      expect(c.length, `cluster ${t.job}`).toBeGreaterThan(0)
      for (const x of [...l, ...c]) {
        expect(x.labels.tier, x.where).toBe(t.tier)
        // without a declared service, a chart's monitor keeps the operator's (its Service's name)
        if (t.service !== undefined || x.where.startsWith("local")) expect(x.labels.service, x.where).toBe(t.service)
        expect(x.labels.namespace, x.where).toEqual(expect.any(String))
        if (t.cluster.by === "ServiceMonitor" || x.where.startsWith("local")) expect(x.labels.job, x.where).toBe(t.job)
      }
    }
    // the orchestrator's worker and beat: two Deployments, two monitors, one job
    expect(cluster.filter((x) => x.labels.job === "orchestrator").map((x) => x.where)).toEqual([
      "ServiceMonitor brandme/orchestrator",
      "ServiceMonitor brandme/orchestrator-beat"
    ])
  })

  it("our monitors scrape the `metrics` port, honouring the services' own `service` label", () => {
    for (const x of cluster.filter((c) => c.labels.tier === "app")) {
      expect(x.where).toMatch(/^ServiceMonitor /)
    }
    const objects = kubernetesObjects(run.resources, true).flatMap(({ object }) =>
      object === undefined ? [] : [object]
    )
    for (const name of ServiceNames) {
      const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === name)
      const ports = arr(rec(svc?.spec), "ports").map((p) => rec(p))
      expect(ports.find((p) => p.name === MetricsPortName)?.port, name).toBe(MetricsPorts[name])
    }
  })

  it("every selector of every rule and dashboard query is fed by a local and a cluster target", () => {
    const queries = [...ruleQueries(), ...dashboardQueries()]
    expect(queries.length).toBeGreaterThan(50)
    expect(unfed(queries, { local: localTargets(), cluster })).toEqual([])
  })

  it("the check sees a label a target lacks, and a job only the local config has", () => {
    const planted = [
      { where: "planted tier", expr: 'up{tier="application"} == 0' },
      { where: "planted job", expr: 'sum(rate(container_cpu_usage_seconds_total{job="cadvisor"}[5m]))' },
      { where: "planted metric", expr: "absent(nobody_exports_this_total)" }
    ]
    expect(unfed(planted, { local: localTargets(), cluster })).toEqual([
      'planted tier: no local target feeds up{tier="application"}',
      'planted tier: no cluster target feeds up{tier="application"}',
      'planted job: no cluster target feeds container_cpu_usage_seconds_total{job="cadvisor"}',
      "planted metric: no local target feeds nobody_exports_this_total{}",
      "planted metric: no cluster target feeds nobody_exports_this_total{}"
    ])
  })

  it("every cAdvisor series a rule reads survives the kubelet monitor's metric relabelings (the chart's default drops container_spec_*)", () => {
    const dropped = (relabelings: unknown, metric: string): boolean =>
      arr(relabelings).some((r0) => {
        const r = rec(r0)
        const sources = arr(r.sourceLabels)
        return (
          r.action === "drop" &&
          sources.length === 1 &&
          sources[0] === "__name__" &&
          new RegExp(`^(?:${String(r.regex)})$`).test(metric)
        )
      })
    const read = [
      ...new Set(
        allRules().flatMap((r) =>
          selectorsIn(String(r.rule.expr))
            .map((s) => s.metric)
            .filter((m) => m.startsWith("container_"))
        )
      )
    ]
    expect(read).toContain("container_spec_memory_limit_bytes")
    const stack = helmReleases(run.resources).find((r) => r.name === "kube-prometheus-stack")
    const ours = rec(rec(rec(stack?.values).kubelet).serviceMonitor).cAdvisorMetricRelabelings
    expect(read.filter((m) => dropped(ours, m))).toEqual([])
    // the chart's own list would drop the limit ContainerMemoryNearLimit divides by
    const defaults = rec(rec(loadFixture(Charts.kubePrometheusStack).defaults.kubelet).serviceMonitor)
    expect(read.filter((m) => dropped(defaults.cAdvisorMetricRelabelings, m))).toEqual([
      "container_spec_memory_limit_bytes"
    ])
    // and every other default is kept
    expect(arr(ours).length).toBe(arr(defaults.cAdvisorMetricRelabelings).length)
  })

  it("the data stores' exporters run hardened, read their connection strings from the app's Secrets", () => {
    const deployments = kubernetesObjects(run.resources, true).flatMap(({ object }) =>
      object?.kind === "Deployment" && isExporter(object) ? [object] : []
    )
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(ExporterDeployments.map((e) => e.name).sort())
    for (const d of deployments) {
      const pod = rec(rec(rec(d.spec).template).spec)
      const c = rec(arr(pod.containers)[0])
      expect(rec(c.securityContext)).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false })
      expect(rec(pod.securityContext).runAsNonRoot).toBe(true)
      for (const e of arr(c.env).map((x) => rec(x)))
        expect(rec(rec(e.valueFrom).secretKeyRef).name).toMatch(/^brandme-/)
    }
  })

  it("the nightly backup: a CronJob running npm run backup (compiled), its success exported for BackupStale", () => {
    const objects = kubernetesObjects(run.resources, true).flatMap(({ object }) =>
      object === undefined ? [] : [object]
    )
    const cron = objects.find((o) => o.kind === "CronJob" && o.metadata.name === "backup")
    const spec = rec(cron?.spec)
    expect(spec.schedule).toBe(Backups.schedule)
    expect(spec.concurrencyPolicy).toBe("Forbid")
    const pod = rec(rec(rec(rec(spec.jobTemplate).spec).template).spec)
    const c = rec(arr(pod.containers)[0])
    expect(c.command).toEqual([...BackupCommand])
    const env = arr(c.env).map((x) => rec(x))
    for (const name of ["DATABASE_URL", "REDIS_QUEUE_URL"]) {
      expect(rec(rec(env.find((e) => e.name === name)?.valueFrom).secretKeyRef).name, name).toMatch(/^brandme-/)
    }
    expect(env.find((e) => e.name === "BACKUP_DIR")?.value).toBe(BackupDir)
    expect(arr(c.volumeMounts).map((m) => rec(m).mountPath)).toContain(BackupDir)
    // the queue Redis' exporter watches the key BackupStale reads
    const exporter = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "redis-exporter-queue")
    const args = rec(arr(rec(rec(rec(exporter?.spec).template).spec).containers)[0]).args
    expect(args).toContain(`--check-single-keys=db0=${Backups.successKey}`)
    const stale = allRules().find((r) => r.rule.alert === "BackupStale")
    expect(String(stale?.rule.expr)).toContain(`redis_key_value{key="${Backups.successKey}"}`)
  })

  it("the node log agent runs on every node with the logs pipeline of observability/logsAgent.ts", () => {
    const agent = helmReleases(run.resources).find((r) => r.name === "otel-agent")
    expect(agent?.namespace).toBe("observability")
    const v = rec(agent?.values)
    expect(v.mode).toBe("daemonset")
    expect(rec(v, "presets", "logsCollection").enabled).toBe(true)
    expect(rec(v, "presets", "kubernetesAttributes").enabled).toBe(true)
    const logs = rec(v, "config", "service", "pipelines", "logs")
    expect(logs.processors).toEqual([...LogsPipeline])
    expect(arr(v, "config", "receivers", "filelog", "include")).toEqual([
      "/var/log/pods/brandme_*/*/*.log",
      "/var/log/pods/brandme-staging_*/*/*.log"
    ])
    expect(rec(v, "config", "processors", "transform/redact-pii").log_statements).toBeDefined()
  })

  it("the observability namespace reaches the metrics and exporter ports only, never a service port", () => {
    const policy = kubernetesObjects(run.resources, true).find(
      ({ object }) => object?.kind === "NetworkPolicy" && object.metadata.name === "allow-prometheus-scrape"
    )?.object
    const rule = rec(arr(rec(policy?.spec), "ingress")[0])
    expect(rec(arr(rule, "from")[0], "namespaceSelector", "matchLabels")).toEqual({
      "kubernetes.io/metadata.name": "observability"
    })
    const ports = arr(rule, "ports").map((p) => rec(p).port)
    const exporterPorts = ScrapeTargets.filter((t) => ExporterDeployments.some((e) => e.job === t.job)).map(
      (t) => t.port
    )
    expect([...ports].sort()).toEqual([...new Set([...Object.values(MetricsPorts), ...exporterPorts])].sort())
    for (const s of ServiceNames) expect(ports).not.toContain(Services[s].port)
  })
})
