import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parse, stringify } from "yaml"
import { demoGarments } from "../scripts/DemoData.js"
import { HealthPaths, type ServiceName, ServiceNames } from "../shared/ServiceCatalog.js"
import { freePort } from "../shared/testing/TestDatabase.js"
import { demoTag, startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"
import { runStack } from "../stacks/offline/harness.js"
import { type ClusterTarget, clusterTargets } from "../stacks/offline/monitors.js"
import { observabilityDir } from "./generate.js"
import { Backups } from "./topology.js"

/**
 * Observability as deployed, on a real Prometheus (Debian's package): the scrape config is derived from the
 * dev stack's rendered ServiceMonitors (each target's labels are what the operator gives it after our
 * relabelings, stacks/offline/monitors.ts), pointed at running processes — the platform's services on their
 * metrics ports, Debian's prometheus-postgres-exporter on the test's database and prometheus-redis-exporter on
 * a private redis-server with maxmemory — and loads the committed rule files with every `for:` cut to 2 s.
 * Then ServiceDown, QueueWorkersDown and RedisMemoryHigh fire for real: a workload stopped, the workers gone,
 * Redis filled.
 *
 * Departures from the cluster: the services run in this test process (two platforms: agentic and the
 * orchestrator apart, so they can be stopped alone), not one OS process per Deployment (the multi-process
 * topology run, scripts/ops/topology.itest.ts, is not combined with this test); the chart-scraped targets
 * (node-exporter, cAdvisor, NATS exporter, the observability components) are not run.
 */
const FOR = "2s"

const spawnQuiet = (cmd: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): ChildProcess =>
  spawn(cmd, [...args], { stdio: "ignore", env })

const waitFor = async (what: string, f: () => Promise<boolean>, ms: number) => {
  const t0 = Date.now()
  while (Date.now() - t0 < ms) {
    if (await f().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const dashboardExprs = (): ReadonlyArray<string> => {
  const dir = join(observabilityDir, "grafana", "dashboards")
  const out = new Set<string>()
  const walk = (p: { targets?: Array<{ expr?: string }>; panels?: Array<unknown> }) => {
    for (const t of p.targets ?? []) if (typeof t.expr === "string") out.add(t.expr)
    for (const c of p.panels ?? []) walk(c as typeof p)
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")))
    walk(JSON.parse(readFileSync(join(dir, f), "utf8")))
  return [...out]
}

describe("observability as deployed: monitors' labels, real exporters, alerts firing for real", () => {
  let main: TestPlatform
  let apart: TestPlatform
  let promUrl: string
  let work: string | undefined
  let redisPort: number
  const children: Array<ChildProcess> = []
  let targets: ReadonlyArray<ClusterTarget> = []

  beforeAll(async () => {
    const run = await runStack("dev")
    targets = clusterTargets(run.resources)
    main = await startTestPlatform({ label: "deployed", services: ServiceNames, demoData: true })
    // agentic and the orchestrator once more, on the same database, queues, streams and Redis keys as the main
    // platform (so they process its scans too), scraped instead of the main platform's: stopped alone below
    apart = await startTestPlatform({
      label: "deployedb",
      services: ["agentic", "orchestrator"],
      env: {
        DATABASE_URL: main.db.url,
        QUEUE_PREFIX: main.config.queues.prefix,
        NATS_STREAM_PREFIX: main.config.nats.streamPrefix,
        REDIS_KEY_PREFIX: main.config.redis.keyPrefix
      }
    })
    const dir = mkdtempSync(join(tmpdir(), "brandme-deployed-"))
    work = dir

    redisPort = await freePort()
    children.push(
      spawnQuiet("redis-server", [
        "--port",
        String(redisPort),
        "--bind",
        "127.0.0.1",
        "--maxmemory",
        "8mb",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
        "--appendonly",
        "no"
      ])
    )
    const redisExporter = await freePort()
    const pgExporter = await freePort()
    const promPort = await freePort()
    promUrl = `http://127.0.0.1:${promPort}`
    const r = new IORedis(redisPort, { maxRetriesPerRequest: null })
    r.on("error", () => undefined) // refused until redis-server listens
    await waitFor("redis-server", async () => (await r.ping()) === "PONG", 10_000)
    await r.set(Backups.successKey, String(Math.floor(Date.now() / 1000)))
    r.disconnect()
    children.push(
      spawnQuiet("prometheus-redis-exporter", [
        "-redis.addr",
        `redis://127.0.0.1:${redisPort}`,
        "-web.listen-address",
        `127.0.0.1:${redisExporter}`,
        "-check-single-keys",
        `db0=${Backups.successKey}`
      ]),
      spawnQuiet("prometheus-postgres-exporter", [`--web.listen-address=127.0.0.1:${pgExporter}`], {
        ...process.env,
        DATA_SOURCE_NAME: `${main.db.url}?sslmode=disable`
      })
    )

    // where each declared target runs here
    const addressOf = (t: ClusterTarget): string | undefined => {
      const job = t.declared?.job
      if (job === undefined) return undefined
      if (job === "agentic" || job === "orchestrator") return new URL(apart.metricsUrl(job)).host
      if ((ServiceNames as ReadonlyArray<string>).includes(job))
        return new URL(main.metricsUrl(job as ServiceName)).host
      if (job === "redis-exporter") return `127.0.0.1:${redisExporter}`
      if (job === "postgres-exporter") return `127.0.0.1:${pgExporter}`
      return undefined
    }
    const seen = new Set<string>()
    const scrape = targets.flatMap((t) => {
      const address = addressOf(t)
      const key = `${t.labels.job}/${t.labels.service}`
      // the worker and the beat (and the two Redis exporters) are one process each here
      if (address === undefined || seen.has(key)) return []
      seen.add(key)
      const { instance: _i, ...labels } = t.labels
      return [
        {
          job_name: t.where.replace(/[^A-Za-z0-9_-]+/g, "_"),
          honor_labels: t.honorLabels,
          metrics_path: t.path,
          static_configs: [{ targets: [address], labels }]
        }
      ]
    })
    expect(scrape.map((s) => s.static_configs[0]?.labels.job).sort()).toEqual(
      [...ServiceNames, "postgres-exporter", "redis-exporter"].sort()
    )
    const rulesDir = join(observabilityDir, "prometheus", "rules")
    const ruleFiles = readdirSync(rulesDir).map((f) => {
      const out = join(dir, f)
      writeFileSync(out, readFileSync(join(rulesDir, f), "utf8").replace(/^(\s+)for: \S+$/gm, `$1for: ${FOR}`))
      return out
    })
    writeFileSync(
      join(dir, "prometheus.yml"),
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: ruleFiles,
        scrape_configs: scrape
      })
    )
    children.push(
      spawnQuiet("prometheus", [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`
      ])
    )
    await waitFor("prometheus", async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000)

    // traffic, as in Prometheus.itest.ts
    const gateway = main.url("gateway")
    const regions = ["FR", "US-CA", "JP"]
    const t0 = Date.now()
    while (Date.now() - t0 < 12_000) {
      await Promise.all(
        demoGarments.map((_, i) =>
          fetch(`${gateway}/v1/scans`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tag: demoTag(i), context: { region: regions[i % 3] } })
          }).then((x) => x.arrayBuffer())
        )
      )
      await fetch(`${gateway}/v1/scans`, { method: "POST", body: "{" }).then((x) => x.arrayBuffer())
      await Promise.all(
        ServiceNames.map((n) =>
          fetch(`${(n === "agentic" || n === "orchestrator" ? apart : main).url(n)}${HealthPaths.ready}`).then((x) =>
            x.arrayBuffer()
          )
        )
      )
      await new Promise((res) => setTimeout(res, 250))
    }
  }, 180_000)

  afterAll(async () => {
    for (const c of children) c.kill("SIGTERM")
    await main?.close()
    await apart?.close().catch(() => undefined)
    if (work !== undefined) rmSync(work, { recursive: true, force: true })
  })

  const query = async (expr: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
    return (await res.json()) as {
      status: string
      error?: string
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }
    }
  }
  const firing = async (alert: string) => {
    const r = await query(`ALERTS{alertname="${alert}",alertstate="firing"}`)
    return r.data?.result.map((x) => x.metric) ?? []
  }

  it("every target is up with the monitors' labels; every dashboard query returns data", async () => {
    const up = await query("up")
    const got = (up.data?.result ?? []).map((x) => [x.metric.job, x.metric.tier, x.metric.service, x.value[1]])
    for (const job of [...ServiceNames, "postgres-exporter", "redis-exporter"]) {
      expect(
        got.find((g) => g[0] === job),
        job
      ).toBeDefined()
    }
    expect(got.filter((g) => g[3] !== "1")).toEqual([])
    expect((await query('pg_up{tier="exporter",service="postgres"}')).data?.result[0]?.value[1]).toBe("1")
    expect((await query("redis_memory_max_bytes")).data?.result[0]?.value[1]).toBe(String(8 * 1024 * 1024))
    const empty: Array<string> = []
    for (const expr of dashboardExprs()) {
      const r = await query(expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "5m"))
      expect(r.status, `${expr}: ${r.error}`).toBe("success")
      if ((r.data?.result.length ?? 0) === 0) empty.push(expr)
    }
    expect(empty, `queries without data:\n${empty.join("\n")}`).toEqual([])
    // every rule expression evaluates; every recording rule has produced data
    const rules = readdirSync(join(observabilityDir, "prometheus", "rules")).flatMap((f) => {
      const doc = parse(readFileSync(join(observabilityDir, "prometheus", "rules", f), "utf8")) as {
        groups: Array<{ rules: Array<{ expr: string; record?: string }> }>
      }
      return doc.groups.flatMap((g) => g.rules)
    })
    for (const rule of rules) expect((await query(rule.expr)).status, rule.expr).toBe("success")
    const unrecorded: Array<string> = []
    for (const rule of rules.filter((x) => x.record !== undefined)) {
      if (((await query(rule.record ?? "")).data?.result.length ?? 0) === 0) unrecorded.push(rule.record ?? "")
    }
    expect(unrecorded).toEqual([])
    // nothing is down yet, and the backup key is fresh
    expect(await firing("ServiceDown")).toEqual([])
    expect(await firing("QueueWorkersDown")).toEqual([])
    expect(await firing("BackupStale")).toEqual([])
  }, 120_000)

  it("RedisMemoryHigh fires when Redis is filled past 90 % of maxmemory", async () => {
    const r = new IORedis(redisPort)
    try {
      const chunk = "x".repeat(64 * 1024)
      for (let i = 0; i < 200; i++) {
        const ok = await r.set(`fill:${i}`, chunk).then(
          () => true,
          () => false
        )
        if (!ok) break
      }
      await waitFor("RedisMemoryHigh firing", async () => (await firing("RedisMemoryHigh")).length > 0, 30_000)
      expect((await firing("RedisMemoryHigh"))[0]).toMatchObject({
        severity: "warning",
        tier: "exporter",
        service: "redis"
      })
    } finally {
      r.disconnect()
    }
  }, 60_000)

  it("ServiceDown and QueueWorkersDown fire when the agentic and orchestrator workload stops", async () => {
    await apart.close()
    await waitFor(
      "ServiceDown agentic + orchestrator",
      async () =>
        (await firing("ServiceDown"))
          .map((m) => m.service)
          .sort()
          .join(",") === "agentic,orchestrator",
      30_000
    )
    await waitFor("QueueWorkersDown", async () => (await firing("QueueWorkersDown")).length > 0, 30_000)
    expect((await firing("QueueWorkersDown"))[0]).toMatchObject({ severity: "critical", service: "orchestrator" })
    expect((await firing("ServiceDown")).every((m) => m.tier === "app" && m.namespace === "brandme")).toBe(true)
  }, 60_000)
})
