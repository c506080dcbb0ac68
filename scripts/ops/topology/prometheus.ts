/**
 * Observability on the multi-process topology (observability/Deployed.itest.ts starts it with
 * `unshare -m -n`; see that file for what it proves and what it cannot reproduce). Brings a stack shape up as
 * run.ts does, then beside it: Debian's prometheus-postgres-exporter and prometheus-redis-exporter run as the
 * stack's exporter Deployments say (their args and Secret-fed env), and Debian's prometheus with a scrape
 * config translated from the stack's ServiceMonitors (stacks/offline/operatorScrape.ts) and the committed rule
 * files (every `for:` cut to 2 s in its copy). Drives scans, checks every dashboard query and rule has data,
 * then produces the conditions of ServiceDown, QueueWorkersDown and RedisMemoryHigh for real and times how
 * long each alert takes to fire. Prints one line `PROMETHEUS_REPORT <json>`; exit 1 when something broke.
 *
 *   unshare -m -n -- node --import tsx scripts/ops/topology/prometheus.ts --shape dev [--app <image layout dir>]
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Redis as IORedis } from "ioredis"
import { stringify } from "yaml"
import {
  checkData,
  copyRuleFiles,
  driveTraffic,
  prometheusApi,
  startPrometheus
} from "../../../observability/promCheck.js"
import { ScrapeTargets } from "../../../observability/targets.js"
import { Backups } from "../../../observability/topology.js"
import { operatorScrapeConfigs } from "../../../stacks/offline/operatorScrape.js"
import { waitFor } from "./Infra.js"
import { buildImageLayout } from "./ImageLayout.js"
import { type PlannedExporter, TopologyStacks } from "./Shapes.js"
import { drain, mapCaPath, type Running, startTopology, stopDaemons, topologyDir } from "./Topology.js"

const { values } = parseArgs({ options: { shape: { type: "string" }, app: { type: "string" } }, strict: true })
const shape = TopologyStacks.find((s) => s === values.shape)
if (shape === undefined) {
  console.error(`usage: prometheus.ts --shape <${TopologyStacks.join("|")}> [--app <image layout dir>]`)
  process.exit(2)
}
const app = values.app ?? join(mkdtempSync(join(tmpdir(), "brandme-topology-app-")), "app")
if (values.app === undefined) await buildImageLayout(process.cwd(), app)
const t0 = performance.now()
const since = () => Math.round(performance.now() - t0)
const dir = topologyDir(shape)
const failures: Array<string> = []

/** Rules' `for:` in the test's copy of the rule files (production: 1m–15m). */
const For = "2s"
/** The cache Redis' maxmemory here (Memorystore's comes with its tier): what RedisMemoryHigh divides by. */
const RedisMaxMemoryBytes = 16 * 1024 * 1024
const PromAddress = "127.0.0.30:9090"
const exporterAddr = (i: number) => `127.0.0.${40 + i}`

/** The Debian packages standing in for the exporter images the Deployments name. */
const ExporterBinaries: Readonly<Record<string, string>> = {
  "postgres-exporter": "/usr/bin/prometheus-postgres-exporter",
  "redis-exporter": "/usr/bin/prometheus-redis-exporter"
}

const children: Array<ChildProcess> = []
const spawnLogged = (name: string, cmd: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const child = spawn(cmd, [...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  const log = createWriteStream(join(dir, `${name}.log`))
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  children.push(child)
  return child
}

const startExporter = async (e: PlannedExporter, address: string, secrets: Readonly<Record<string, string>>) => {
  const bin = ExporterBinaries[e.job]
  if (bin === undefined) throw new Error(`exporter ${e.name}: no Debian binary for ${e.job}`)
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...e.env }
  for (const [name, from] of Object.entries(e.secretEnv)) {
    const value = secrets[from]
    if (value === undefined) throw new Error(`exporter ${e.name}: the test secret map has no ${from}`)
    env[name] = value
  }
  // the pod's own address, as HTTP_HOST for the workloads: the image's `:port` would bind every address here
  const args = [
    // `--flag=<path under the CA bundle mount>`: the local CA's folder
    ...e.args.map((a) => {
      const eq = a.indexOf("=")
      return eq < 0
        ? mapCaPath(a, e.caMounts, dir)
        : `${a.slice(0, eq + 1)}${mapCaPath(a.slice(eq + 1), e.caMounts, dir)}`
    }),
    `--web.listen-address=${address}:${e.port}`
  ]
  const child = spawnLogged(e.name, bin, args, env)
  const readyMs = await Promise.race([
    waitFor(e.name, async () => (await fetch(`http://${address}:${e.port}/metrics`)).ok, 20_000),
    new Promise<never>((_, reject) => child.on("exit", (c) => reject(new Error(`${e.name} exited ${String(c)}`))))
  ])
  return {
    name: e.name,
    job: e.job,
    address: `${address}:${e.port}`,
    args,
    readyMs: Math.round(readyMs)
  }
}

const redisClient = (url: string, ca: string | undefined) =>
  new IORedis(url, { maxRetriesPerRequest: 1, ...(ca === undefined ? {} : { tls: { ca: readFileSync(ca) } }) })

let daemons: Parameters<typeof stopDaemons>[0] = []
let started: ReadonlyArray<Running> = []

const alive = (r: Running) => r.child.exitCode === null && r.child.signalCode === null

const main = async () => {
  const topo = await startTopology(shape, app, dir, failures, {
    redisArgs: { redisCache: ["--maxmemory", String(RedisMaxMemoryBytes)] }
  })
  daemons = topo.daemons
  started = topo.running
  const { plan, tls, running } = topo
  const report: Record<string, unknown> = {
    shape,
    infraMs: topo.infraMs,
    migrateMs: topo.migrateMs,
    ready: topo.ready,
    logs: dir
  }
  if (failures.length > 0) return report

  // the backup CronJob's record of its last success (a run of npm run backup writes the same key)
  const queue = redisClient(plan.secrets.REDIS_QUEUE_URL ?? "", tls?.caFile)
  await queue.set(Backups.successKey, String(Math.floor(Date.now() / 1000)))
  queue.disconnect()

  // ---- the exporters as their Deployments run them
  const exporters = await Promise.all(plan.exporters.map((e, i) => startExporter(e, exporterAddr(i), plan.secrets)))
  report.exporters = exporters

  // ---- Prometheus: the ServiceMonitors as the operator would turn them into scrape configs
  const addressOf = (_ns: string, deployment: string) =>
    running.find((r) => r.w.name === deployment)?.address ??
    exporters.find((e) => e.name === deployment)?.address.split(":")[0]
  const scrape = operatorScrapeConfigs(plan.resources, addressOf, { interval: "1s", timeout: "1s" })
  report.scrape = {
    jobs: scrape.scrapeConfigs.map((s) => s.job_name),
    targets: scrape.targets,
    unmatched: scrape.unmatched
  }
  const config = join(dir, "prometheus.yml")
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: copyRuleFiles(dir, For),
      scrape_configs: scrape.scrapeConfigs
    })
  )
  children.push(startPrometheus(config, join(dir, "prometheus-data"), PromAddress))
  const prom = prometheusApi(`http://${PromAddress}`)
  await waitFor("prometheus ready", () => prom.ready(), 30_000)
  const upMs = await waitFor(
    "every target up",
    async () => {
      const t = await prom.targets()
      return t.activeTargets.length === scrape.targets.length && t.activeTargets.every((x) => x.health === "up")
    },
    30_000
  ).catch(() => -1)
  const targets = await prom.targets()
  report.targets = {
    upMs: Math.round(upMs),
    active: targets.activeTargets.map((t) => ({
      pool: t.scrapePool,
      url: t.scrapeUrl,
      health: t.health,
      error: t.lastError,
      labels: t.labels
    })),
    dropped: targets.droppedTargets.length
  }

  // ---- traffic, then every dashboard query and rule on what Prometheus scraped
  const gateway = running.find((r) => r.w.name === "gateway")
  const g = topo.garment
  const traffic = (ms: number) =>
    driveTraffic({
      scanUrl: `http://${plan.gatewayHost}:${gateway?.w.port ?? 3000}/v1/scans`,
      tags: [`https://id.brandme.local/01/${g.gtin}/21/${g.serial}`],
      healthUrls: running.map((r) => `http://${r.address}:${r.w.port}${r.w.readiness}`),
      ms
    })
  // the chart-scraped targets, which do not run here (their series are reported, not required)
  const notRun = ScrapeTargets.filter((t) => t.cluster.by === "chart" || t.job === "tempo").map((t) => t.job)
  const trafficT0 = performance.now()
  const sent = [await traffic(6_000)]
  const checkT0 = performance.now()
  // on a loaded machine a few scans may not yet have reached every histogram and rate: more traffic, bounded
  let data = await checkData(prom, notRun)
  for (let round = 0; round < 4 && data.dashboardEmpty.length + data.unrecorded.length > 0; round++) {
    sent.push(await traffic(3_000))
    data = await checkData(prom, notRun)
  }
  report.data = data
  report.traffic = {
    scans: sent.reduce((n, x) => n + x.scans, 0),
    failed: sent.reduce((n, x) => n + x.failed, 0),
    rounds: sent.length
  }
  report.trafficMs = Math.round(performance.now() - trafficT0)
  report.checkMs = Math.round(performance.now() - checkT0)
  report.firingBefore = (await prom.alerts()).filter((a) => a.state === "firing").map((a) => a.labels)

  // ---- the conditions, produced for real, all at once: a workload crashes, the workers are gone, Redis fills
  const victim = running.find((r) => r.w.name === "chain")
  const workers = running.filter((r) => r.w.process === "orchestrator" && r.w.env.ORCHESTRATOR_ROLE !== "beat")
  if (victim === undefined || workers.length === 0) throw new Error("no chain workload or no orchestrator worker")
  const actionT0 = performance.now()
  victim.child.kill("SIGKILL")
  for (const w of workers) w.child.kill("SIGTERM")
  const cache = redisClient(plan.secrets.REDIS_URL ?? "", tls?.caFile)
  const chunk = "x".repeat(64 * 1024)
  let filled = 0
  for (let i = 0; i < 1000; i++) {
    const used = Number(/used_memory:(\d+)/.exec(await cache.info("memory"))?.[1] ?? 0)
    if (used > RedisMaxMemoryBytes * 0.95) break
    await cache.set(`brandme-test:fill:${i}`, chunk)
    filled++
  }
  const usedAfter = Number(/used_memory:(\d+)/.exec(await cache.info("memory"))?.[1] ?? 0)
  cache.disconnect()
  report.fill = {
    keys: filled,
    usedBytes: usedAfter,
    maxBytes: RedisMaxMemoryBytes,
    ms: Math.round(performance.now() - actionT0)
  }
  const expected = {
    "ServiceDown chain": (a: Record<string, string>) => a.alertname === "ServiceDown" && a.service === "chain",
    "ServiceDown orchestrator": (a: Record<string, string>) =>
      a.alertname === "ServiceDown" && a.service === "orchestrator",
    QueueWorkersDown: (a: Record<string, string>) => a.alertname === "QueueWorkersDown",
    RedisMemoryHigh: (a: Record<string, string>) => a.alertname === "RedisMemoryHigh"
  }
  const fired: Record<string, { ms: number; labels: Record<string, string> }> = {}
  await waitFor(
    "the alerts",
    async () => {
      const firing = (await prom.alerts()).filter((a) => a.state === "firing").map((a) => a.labels)
      for (const [name, is] of Object.entries(expected)) {
        const hit = firing.find(is)
        if (fired[name] === undefined && hit !== undefined)
          fired[name] = { ms: Math.round(performance.now() - actionT0), labels: hit }
      }
      return Object.keys(fired).length === Object.keys(expected).length
    },
    60_000
  ).catch(() => undefined)
  report.fired = fired
  report.firingAfter = (await prom.alerts()).filter((a) => a.state === "firing").map((a) => a.labels)
  report.stopped = { killed: victim.w.name, terminated: workers.map((w) => w.w.name) }

  // ---- the rest drains as in run.ts
  report.drained = await drain(running.filter(alive), failures)
  return report
}

const finish = (report: Record<string, unknown>) => {
  for (const c of children) c.kill("SIGTERM")
  stopDaemons(daemons)
  for (const r of started.filter(alive)) r.child.kill("SIGKILL")
  console.log(`PROMETHEUS_REPORT ${JSON.stringify({ ...report, totalMs: since(), failures })}`)
  process.exit(failures.length === 0 ? 0 : 1)
}

main().then(
  (report) => finish(report),
  (e: unknown) => {
    failures.push(e instanceof Error ? (e.stack ?? e.message) : String(e))
    finish({ shape, logs: dir })
  }
)
