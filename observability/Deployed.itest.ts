import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildImageLayout } from "../scripts/ops/topology/ImageLayout.js"
import { runUnshared } from "../scripts/ops/topology/Unshared.js"
import type { DataCheck } from "./promCheck.js"
import { LocalNamespaces, ScrapeTargets } from "./targets.js"

/**
 * Observability as deployed, on the multi-process topology: the dev stack rendered and run as
 * scripts/ops/topology.itest.ts runs it (every Deployment its own OS process with its manifest's env, on its own
 * loopback address inside `unshare -m -n`, private TLS Postgres and AUTH/TLS Redis and NATS), and beside it, in
 * the same namespace (scripts/ops/topology/prometheus.ts):
 * - Debian's prometheus-postgres-exporter and prometheus-redis-exporter, one process per exporter Deployment of
 *   the stack (postgres-exporter, redis-exporter-cache, redis-exporter-queue) with that Deployment's args and its
 *   Secret-fed env (DATA_SOURCE_NAME, REDIS_ADDR: the same test secrets the workloads get), against the
 *   topology's Postgres and the two Redis instances, over TLS with the local CA where the CA bundle is mounted;
 * - Debian's prometheus, whose scrape config is translated from the stack's rendered ServiceMonitors by
 *   stacks/offline/operatorScrape.ts and whose rules are the committed rule files.
 * Then scans go through the gateway's Service name, and the test proves: every ServiceMonitor's targets are up
 * with the operator's labels (job, tier, service, namespace, pod); every dashboard query returns data; every rule
 * expression evaluates, every recording rule records, and every series a rule selects exists (by name and target
 * labels) apart from the two listed below; and ServiceDown (the chain workload SIGKILLed), ServiceDown +
 * QueueWorkersDown (the orchestrator worker Deployment SIGTERMed, the beat left running) and RedisMemoryHigh (the
 * cache Redis filled past 90 % of its maxmemory) fire, read from Prometheus' /api/v1/alerts.
 *
 * Translated from the ServiceMonitors (kubernetes_sd cannot run: there is no API server): each monitor's
 * selector against the rendered Services' labels, the endpoint's port name through the Service's targetPort to
 * the Deployment's containerPort, one static target per Deployment at its process' address carrying the
 * `__meta_kubernetes_*` labels discovery would give it, the operator's own relabelings (keep by selector and
 * port; namespace, service, pod, container, job, endpoint) and then each endpoint's relabelings verbatim,
 * honorLabels and path. Not reproduced: Endpoints and replicas (one pod per Deployment), the operator's
 * sharding, the charts' own monitors (tempo's ServiceMonitor in the observability namespace, the kubelet /
 * cAdvisor, node-exporter, the NATS exporter's PodMonitor, Prometheus, Alertmanager, Loki, the collector: those
 * components do not run here, so their series are reported as not run, and ExporterDown{service="nats"} fires
 * from its absent() arm), the Kubernetes API, Grafana, Loki, Tempo and the OTel Collector (none can run on this
 * machine; their configs and the rendered values are tested by the unit suite).
 *
 * Departures, all in the test's copy only: scrape and evaluation every 1 s (the monitors say 15 s), every rule's
 * `for:` cut to 2 s (production 1m–15m), the cache Redis started with maxmemory 16 MiB (Memorystore's comes with
 * its tier), each exporter bound to its own address (`--web.listen-address`, as HTTP_HOST for the workloads), the
 * backup's success key written by the test instead of a run of the backup CronJob, and the beat's checkpoint
 * every 3 s (as in the topology test).
 */
const repo = resolve(".")
const app = mkdtempSync(join(tmpdir(), "brandme-observability-app-"))
const runner = join(repo, "scripts", "ops", "topology", "prometheus.ts")

type Labels = Record<string, string>
interface Report {
  readonly failures: ReadonlyArray<string>
  readonly logs?: string
  readonly totalMs?: number
  readonly ready?: ReadonlyArray<{ workload: string; readyMs: number }>
  readonly exporters?: ReadonlyArray<{ name: string; readyMs: number }>
  readonly scrape?: { jobs: ReadonlyArray<string>; unmatched: ReadonlyArray<string> }
  readonly targets?: {
    upMs: number
    active: ReadonlyArray<{ pool: string; health: string; error: string; labels: Labels }>
  }
  readonly traffic?: { scans: number; failed: number }
  readonly data?: DataCheck
  readonly firingBefore?: ReadonlyArray<Labels>
  readonly fill?: { usedBytes: number; maxBytes: number }
  readonly fired?: Record<string, { ms: number; labels: Labels }>
}

const run = (shape: string) => runUnshared<Report>({ repo, runner, app, shape, marker: "PROMETHEUS_REPORT" })

/** The alerts the test produces, and the one the test keeps quiet (the backup key is fresh). */
const Produced = ["ServiceDown", "QueueWorkersDown", "RedisMemoryHigh"] as const

beforeAll(async () => {
  await buildImageLayout(repo, app)
}, 60_000)

afterAll(() => rmSync(app, { recursive: true, force: true }))

describe("observability as deployed: the dev stack's processes, its exporters, Prometheus from its ServiceMonitors", () => {
  it("every target up with the monitors' labels; every dashboard query and rule has data; ServiceDown, QueueWorkersDown, RedisMemoryHigh fire for real", async () => {
    const { code, report, output } = await run("dev")
    expect(report, output.slice(-3000)).toBeDefined()
    const r = report!
    const fired = Object.fromEntries(Object.entries(r.fired ?? {}).map(([k, v]) => [k, v.ms]))
    console.log(
      `observability ${JSON.stringify({ totalMs: r.totalMs, readyMaxMs: Math.max(...(r.ready ?? []).map((x) => x.readyMs)), targetsUpMs: r.targets?.upMs, traffic: r.traffic, firedMs: fired })}`
    )
    expect(r.failures, `logs in ${r.logs}`).toEqual([])
    expect(code).toBe(0)

    // every own ServiceMonitor became a scrape job; tempo's selects the tempo chart's Service, not run here
    expect(r.scrape?.unmatched).toEqual(["ServiceMonitor observability/tempo"])
    const active = r.targets?.active ?? []
    expect(active.filter((t) => t.health !== "up").map((t) => `${t.pool}: ${t.error}`)).toEqual([])
    // each declared ServiceMonitor target is scraped with the labels the rules and dashboards select on
    for (const t of ScrapeTargets.filter((x) => x.cluster.by === "ServiceMonitor" && x.job !== "tempo")) {
      const hit = active.find((a) => a.labels.job === t.job)
      expect(hit?.labels, t.job).toMatchObject({
        job: t.job,
        tier: t.tier,
        namespace: LocalNamespaces[t.namespace],
        ...(t.service === undefined ? {} : { service: t.service })
      })
      expect(hit?.labels.pod, t.job).toMatch(/-0$/)
    }
    expect(r.traffic?.scans).toBeGreaterThan(0)
    expect(r.traffic?.failed).toBe(0)

    const d = r.data!
    expect(d.dashboardQueries).toBeGreaterThan(30)
    expect(d.dashboardErrors).toEqual([])
    expect(d.dashboardEmpty, "dashboard queries without data").toEqual([])
    expect(d.rules).toBeGreaterThan(20)
    expect(d.ruleErrors).toEqual([])
    expect(d.unrecorded).toEqual([])
    // every series a rule reads exists (labelled event counters apart: promCheck.ts EventCounters), the query
    // duration histogram of DatabaseSlowQueries included (shared/layers/QueryTiming.ts)
    expect(d.ruleSeriesMissing, "series a rule reads that no target here exposes").toEqual([])
    // only the chart-scraped exporters that do not run here (node-exporter, cAdvisor, the NATS exporter) are missing
    expect(
      d.notRunHere.every((s) => /^(node_|container_|up\{tier="exporter",service="nats"\})/.test(s)),
      d.notRunHere.join("\n")
    ).toBe(true)

    // before: none of the produced alerts, no stale backup, no down exporter that runs here
    const quiet = (r.firingBefore ?? []).filter(
      (a) =>
        (Produced as ReadonlyArray<string>).includes(a.alertname ?? "") ||
        a.alertname === "BackupStale" ||
        (a.alertname === "ExporterDown" && a.service !== "nats")
    )
    expect(quiet).toEqual([])

    // after: each condition produced for real, each alert firing with the labels its runbook and routes read
    expect(r.fill?.usedBytes).toBeGreaterThan((r.fill?.maxBytes ?? 0) * 0.9)
    expect(r.fired?.["ServiceDown chain"]?.labels).toMatchObject({
      severity: "critical",
      tier: "app",
      namespace: "brandme",
      service: "chain",
      pod: "chain-0"
    })
    expect(r.fired?.["ServiceDown orchestrator"]?.labels).toMatchObject({
      service: "orchestrator",
      pod: "orchestrator-0"
    })
    expect(r.fired?.QueueWorkersDown?.labels).toMatchObject({ severity: "critical", service: "orchestrator" })
    expect(r.fired?.RedisMemoryHigh?.labels).toMatchObject({
      severity: "warning",
      tier: "exporter",
      service: "redis",
      pod: "redis-exporter-cache-0"
    })
    rmSync(r.logs ?? "", { recursive: true, force: true })
  }, 600_000)
})
