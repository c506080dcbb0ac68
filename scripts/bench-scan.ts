/**
 * `npm run bench:scan`: the scan hot path against a bare node:http + one Redis GET baseline.
 *
 * Deployment shape (printed): the gateway runs in its OWN process (the services' bundle, `services/main.ts` built
 * as the image builds it, SERVICE=gateway, as one pod in Kubernetes), calling brain, policy and knowledge over HTTP;
 * those three run in one process from the same bundle (SERVICE=brain,policy,knowledge, their pods' V8 flags;
 * BENCH_BACKENDS=pods: each in its own); the bare baselines run in this bench process; autocannon in another. The
 * orchestrator is not running
 * during the measurement (on a 2-core machine it would take the gateway's core): the scans pile up in
 * the scan log (the gateway's one XADD per turn; the orchestrator's relay would move it into `scans` jobs) and are
 * counted afterwards, each exactly once. BENCH_ORCHESTRATOR=1 runs its workers
 * in the bench process too (a second pod's work on the same 2 cores) and counts scan_events rows instead.
 *
 * The rate limiter is ON: the gateway has the default per-IP and per-client limits and the bench client
 * (127.0.0.1) an override high enough for the load (RATE_LIMIT_OVERRIDES), so every scan passes the
 * sliding-window check; the bucket's size is printed at the end.
 *
 * Warms the caches, then runs autocannon (50 connections) against the bare server and against
 * POST /v1/scans, BENCH_ROUNDS rounds (default 2) of BENCH_SECONDS (default 10) each, run as three slices a third
 * as long: in each slice bare and scan back to back, which first alternating, so a machine whose load drifts
 * (shared CI cores) skews both sides of a pair alike; `ratio=<scan/bare>` is the median of the slices' ratios
 * (the totals are over all slices: throughput averaged, percentiles the worst slice's). It is the last line.
 * Goal: ratio ≥ 0.5, scan p99 ≤ 15 ms, no errors. GATEWAY_NODE_OPTIONS sets the gateway's V8 flags
 * (default: its pod's, a 16 MB young generation); BENCH_BACKEND_NODE_OPTIONS adds flags to the backends' own;
 * BENCH_LOG_DIR=<dir> keeps each service process's output in <dir>/<service>.log (e.g. with
 * GATEWAY_NODE_OPTIONS or BENCH_BACKEND_NODE_OPTIONS="--trace-gc").
 *
 * Then the cold phase (scripts/bench/Cold.ts): 1,000,000 garments of 50 brands in the bench's database
 * (copied from a template seeded once per migrations + catalogue code, scripts/bench/Catalog.ts;
 * BENCH_RESEED=1 seeds afresh), scans drawn Zipf-distributed (s = 1.1) over them, 30 % signed in,
 * against the gateway and against bare node:http doing one indexed SELECT by (gtin, serial) on a pool of
 * the gateway path's size. Goal: cold_ratio ≥ 0.33, p99 ≤ 25 ms (read on the paced round, an open loop below
 * saturation, beside the pg baseline's on the same schedule), no errors. BENCH_COLD=0 skips it, BENCH_WARM=0 the
 * warm rounds (the last line is then `cold_ratio=` alone). The last line is `ratio=<warm> cold_ratio=<cold>`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync } from "node:fs"
import { join } from "node:path"
import { Queue } from "bullmq"
import { SqlClient } from "@effect/sql"
import { Effect, Redacted } from "effect"
import { Redis as IORedis } from "ioredis"
import { publicRules } from "../shared/http/RateLimit.js"
import { Services } from "../shared/ServiceCatalog.js"
import { autocannon, type LoadResult, stopChild } from "../shared/testing/Processes.js"
import { bundleServices } from "./ops/ServiceBundle.js"
import { digitalLinkOf, JWT_SECRET, makeHarness, postJson } from "../services/gateway/testing/ScanPathHarness.js"
import { catalogInto } from "./bench/Catalog.js"
import { dbUrlOf, makeScanners, runColdPhase } from "./bench/Cold.js"
import {
  answerBaselineLine,
  combine,
  cpuMillis,
  exitedChildrenMillis,
  line,
  machineTicks,
  mainThreadMillis,
  median,
  pairedRatios,
  replayedHeaders,
  warmVerdict
} from "./bench/Measure.js"
import { listenOnLoopback, redisGetServer } from "./bench/Serve.js"
import { readScanLogEntry, scanLogKey } from "../services/orchestrator/ScanLog.js"
import { recordWarmRate } from "./bench/WarmRate.js"

const seconds = Number(process.env.BENCH_SECONDS ?? "10")
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? "2"))
/** each warm round is run as this many slices, bare and scan back to back in each (see the warm loop) */
const WARM_SLICES = 3
// the gateway pod's V8 flags (ServiceCatalog memory.nodeOptions) unless GATEWAY_NODE_OPTIONS replaces them
const gatewayNodeOptions = (process.env.GATEWAY_NODE_OPTIONS ?? Services.gateway.memory.nodeOptions)
  .split(" ")
  .filter((s) => s)
/**
 * The gateway and its backends run the services' bundle, as the image does (`dist/services/main.js`, built here into
 * a cache folder under node_modules so the project root and packages resolve as in the image); BENCH_GATEWAY_SOURCE=1
 * runs `services/main.ts` through tsx instead (one module per file: a heap ~25 MB larger, docs/memory.md).
 */
const fromSource = process.env.BENCH_GATEWAY_SOURCE === "1"
const serviceEntry = async (): Promise<ReadonlyArray<string>> => {
  if (fromSource) return ["--import", "tsx", "services/main.ts"]
  const out = join(process.cwd(), "node_modules", ".cache", "brandme-bench")
  mkdirSync(join(out, "services"), { recursive: true })
  await bundleServices(process.cwd(), out)
  return [join(out, "services", "main.js")]
}
/** BENCH_ORCHESTRATOR=1: also run the orchestrator's workers (in the bench process) and count scan_events */
const withOrchestrator = process.env.BENCH_ORCHESTRATOR === "1"
const withCold = process.env.BENCH_COLD !== "0"
/** BENCH_WARM=0: the cold phase alone (last line `cold_ratio=`), e.g. to profile it */
const withWarm = process.env.BENCH_WARM !== "0"
/** the gateway process's pool (DATABASE_POOL_MAX), the harness's backends' and the Postgres baseline's */
const POOL_MAX = 4
const limits = {
  RATE_LIMIT_PER_IP: "300/60",
  RATE_LIMIT_PER_CLIENT: "120/60",
  RATE_LIMIT_OVERRIDES: "ip:127.0.0.1=100000000/60"
}

/** what a service process of the bench is started with besides its own settings: the harness's database, prefixes */
const harnessEnv = (h: Awaited<ReturnType<typeof makeHarness>>): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: Redacted.value(h.config.database.url),
  DATABASE_POOL_MAX: String(POOL_MAX),
  REDIS_KEY_PREFIX: h.config.redis.keyPrefix,
  QUEUE_PREFIX: h.config.queues.prefix,
  NATS_STREAM_PREFIX: h.config.nats.streamPrefix,
  NATS_SUBJECT_PREFIX: h.config.nats.subjectPrefix,
  JWT_SECRET,
  HTTP_HOST: "127.0.0.1",
  LOG_LEVEL: "warn"
})

type ScanPathService = "gateway" | "brain" | "policy" | "knowledge"

/**
 * Services in a process of their own, from the services' bundle as the image runs it (`SERVICE=<a,b,…>`), with the
 * given V8 flags, on the harness's database, prefixes and the given port offset; resolves once each service's
 * `/health/ready` answers.
 */
const startServiceProcess = async (
  services: ReadonlyArray<ScanPathService>,
  env: NodeJS.ProcessEnv,
  offset: number,
  nodeOptions: ReadonlyArray<string>,
  entry: ReadonlyArray<string>
) => {
  const name = services.join("+")
  const child = spawn(process.execPath, [...nodeOptions, ...entry], {
    env: { ...env, SERVICE: services.join(","), PORT_OFFSET: String(offset) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  // BENCH_LOG_DIR=<dir>: keep the process's whole output in <dir>/<services>.log (e.g. with --trace-gc)
  const logDir = process.env.BENCH_LOG_DIR
  const log = logDir === undefined ? undefined : createWriteStream(join(logDir, `${name}.log`))
  const keep = (b: Buffer) => {
    log?.write(b)
    output = (output + b.toString()).slice(-4000)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  const ready = (service: ScanPathService) =>
    fetch(`http://127.0.0.1:${Services[service].port + offset}/health/ready`).then(
      (r) => r.status === 200,
      () => false
    )
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} process exited ${child.exitCode}: ${output}`)
    if ((await Promise.all(services.map(ready))).every((ok) => ok)) {
      return { child, url: `http://127.0.0.1:${Services[services[0]!].port + offset}` }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill("SIGKILL")
  throw new Error(`${name} process not ready after 30 s: ${output}`)
}

/**
 * The backends the gateway calls, over HTTP on the harness's ports (h.url): by default one process running the
 * three (`SERVICE=brain,policy,knowledge`, as `npm start` runs services together: one event loop, one pool);
 * BENCH_BACKENDS=pods runs each in its own process, as their pods do — on a 2-core machine three more processes
 * cost more CPU per scan (their own wake-ups, syscalls, GC) than the cold path's work (docs/scan-bench.md).
 */
const backendGroups: ReadonlyArray<ReadonlyArray<"brain" | "policy" | "knowledge">> =
  process.env.BENCH_BACKENDS === "pods" ? [["brain"], ["policy"], ["knowledge"]] : [["brain", "policy", "knowledge"]]

/** every scan the gateway recorded: in the scan log (not relayed while the orchestrator is off) and in any queued job */
const queuedScans = async (q: Queue, redis: IORedis, logKey: string) => {
  const ids = new Set<string>()
  let scans = 0
  let jobs = 0
  let entries = 0
  const count = (batch: unknown) => {
    for (const s of Array.isArray(batch) ? batch : []) {
      scans++
      if (typeof s === "object" && s !== null && "scanId" in s) ids.add(String(s.scanId))
    }
  }
  for (let from = "-"; ; ) {
    const page = await redis.xrange(logKey, from, "+", "COUNT", 1000)
    for (const [, fields] of page) {
      entries++
      const entry = readScanLogEntry(fields)
      count("scans" in entry ? entry.scans : [])
    }
    const last = page.at(-1)
    if (page.length < 1000 || last === undefined) break
    from = `(${last[0]}`
  }
  const total = await q.count()
  for (let start = 0; start < total; start += 500) {
    for (const job of await q.getJobs(["waiting", "prioritized", "delayed"], start, start + 499)) {
      jobs++
      const data: unknown = job.data
      count(typeof data === "object" && data !== null && "scans" in data ? data.scans : [])
    }
  }
  return { entries, jobs, scans, unique: ids.size }
}

const main = async () => {
  const h = await makeHarness("bench")
  const redis = new IORedis("redis://127.0.0.1:6379")
  const bareKey = `${h.prefix}:bare`
  await redis.set(bareKey, JSON.stringify({ hello: "world" }))
  const bareHeaders = { "content-type": "application/json" }
  const bare = redisGetServer(redis, bareKey, () => bareHeaders)
  // the same bare server answering the scan's own bytes (its body and headers, set after the warm-up): what a
  // realistic answer costs node:http alone, beside the goal's baseline of a small value and one header
  const answerKey = `${h.prefix}:bare:answer`
  let answerHeaders: Record<string, string> = {}
  const answerServer = redisGetServer(redis, answerKey, () => answerHeaders)
  let gatewayProcess: ChildProcess | undefined
  const backendProcesses = new Map<string, ChildProcess>()
  try {
    // the catalogue first: its database is copied over the harness's before anything connects to it
    const catalog = withCold
      ? await catalogInto(dbUrlOf(h), Redacted.value(h.config.privacy.piiMasterKey), process.env.BENCH_RESEED === "1")
      : undefined
    if (catalog !== undefined) console.log(`catalogue: ${catalog.source} in ${catalog.seconds.toFixed(1)} s`)
    const seed = await h.seed()
    const cold = withCold ? await makeScanners(h) : undefined
    // the signed-in scanners' own limits, like the bench client's address: high enough for the load
    if (cold !== undefined) {
      limits.RATE_LIMIT_OVERRIDES = [
        limits.RATE_LIMIT_OVERRIDES,
        ...cold.userIds.map((id) => `user:${id}=100000000/60`)
      ].join(",")
    }
    const entry = await serviceEntry()
    const env = harnessEnv(h)
    for (const group of backendGroups) {
      const { child } = await startServiceProcess(
        group,
        env,
        h.config.http.portOffset,
        // the pods' V8 flags (the three's are the same), plus BENCH_BACKEND_NODE_OPTIONS (e.g. --cpu-prof)
        `${Services[group[0]!].memory.nodeOptions} ${process.env.BENCH_BACKEND_NODE_OPTIONS ?? ""}`
          .split(" ")
          .filter((x) => x),
        entry
      )
      backendProcesses.set(group.join("+"), child)
    }
    if (withOrchestrator) await h.startOrchestrator()
    const offset = h.config.http.portOffset + 7
    const { child, url: gateway } = await startServiceProcess(
      ["gateway"],
      {
        ...env,
        INTERNAL_CALLS: "http",
        BRAIN_URL: h.url("brain"),
        POLICY_URL: h.url("policy"),
        KNOWLEDGE_URL: h.url("knowledge"),
        ...limits
      },
      offset,
      gatewayNodeOptions,
      entry
    )
    gatewayProcess = child
    const bareUrl = `${await listenOnLoopback(bare)}/`
    const answerUrl = `${await listenOnLoopback(answerServer)}/`
    console.log(
      `shape: gateway in its own process (node ${gatewayNodeOptions.join(" ")}); ${
        backendGroups.length === 1
          ? "brain, policy and knowledge in one process"
          : "brain, policy and knowledge each in its own process"
      } (their pods' V8 flags), called over HTTP; all from the services' bundle; ${
        withOrchestrator
          ? "orchestrator workers persisting scans in the bench process, beside the bare server"
          : "orchestrator not running, scans pile up in the scan log"
      }); autocannon in a third process`
    )
    console.log(
      `rate limits ON: per IP ${limits.RATE_LIMIT_PER_IP}, per client ${limits.RATE_LIMIT_PER_CLIENT}, ` +
        `overrides for 127.0.0.1${cold === undefined ? "" : ` and the ${cold.userIds.length} signed-in scanners`} (100000000/60)`
    )
    const body = JSON.stringify({ tag: digitalLinkOf(seed.owned), context: { region: "FR" } })
    let warm = 0
    let last: Awaited<ReturnType<typeof postJson>> | undefined
    for (let i = 0; i < 200; i++) {
      last = await postJson(`${gateway}/v1/scans`, body)
      if (last.status !== 200) throw new Error(`warm-up scan answered ${last.status}: ${JSON.stringify(last.json)}`)
      warm++
    }
    // the last warm-up answer, re-serialised as the gateway serialises it (JSON.stringify), for the answer server
    const answerText = JSON.stringify(last?.json)
    const answerBytes = Buffer.byteLength(answerText)
    answerHeaders = { ...(last ? replayedHeaders(last.headers) : {}), "content-length": String(answerBytes) }
    await redis.set(answerKey, answerText)
    const bs: Array<LoadResult> = []
    const as: Array<LoadResult> = []
    const ss: Array<LoadResult> = []
    // CPU time per request (user + system), which machine load skews far less than latency
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1])
    // what each side used over its slices: its server process, that process's JavaScript thread, Redis, the load
    // generator (autocannon's exited process) and the machine's ticks, for the "limited by" line
    const used = () => ({ processMs: 0, mainMs: 0, redisMs: 0, generatorMs: 0, busy: 0, total: 0 })
    const bareUse = used()
    const scanUse = used()
    // the bare servers run in this process (its own CPU clock), the gateway in its own (/proc)
    const benchMillis = () => {
      const c = process.cpuUsage()
      return (c.user + c.system) / 1000
    }
    const gatewayMillis = () => cpuMillis(child.pid)
    const measured = async (
      use: ReturnType<typeof used>,
      pid: number | undefined,
      processMillis: () => number,
      run: () => Promise<LoadResult>
    ) => {
      const c0 = processMillis()
      const r0 = cpuMillis(redisPid)
      const m0 = mainThreadMillis(pid)
      const t0 = machineTicks()
      const a0 = exitedChildrenMillis()
      const r = await run()
      use.generatorMs += exitedChildrenMillis() - a0
      use.processMs += processMillis() - c0
      use.mainMs += mainThreadMillis(pid) - m0
      const t1 = machineTicks()
      use.busy += t1.busy - t0.busy
      use.total += t1.total - t0.total
      use.redisMs += cpuMillis(redisPid) - r0
      return r
    }
    const runCold = (scanners: NonNullable<typeof cold>["scanners"]) =>
      runColdPhase({
        harness: h,
        gatewayUrl: gateway,
        gatewayPid: child.pid,
        backendPids: [...backendProcesses].map(([service, c]) => [service, c.pid] as const),
        gatewayMetricsUrl: h.metricsUrl("gateway", offset - h.config.http.portOffset),
        backendMetricsUrls: backendGroups.flat().map((service) => [service, h.metricsUrl(service)] as const),
        redisPid,
        redisCommands: async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info("stats"))?.[1] ?? 0),
        scanners,
        poolMax: POOL_MAX,
        rounds,
        seconds
      })
    if (!withWarm && cold !== undefined) {
      console.log(`cold_ratio=${(await runCold(cold.scanners)).toFixed(3)}`)
      return
    }
    // the warm rounds in slices a third as long, bare and scan back to back in each, their order alternating
    // (bare first, then scan first, …): a slow spell of this shared machine meets both sides of a pair alike
    const warmSeconds = Math.max(2, Math.round(seconds / WARM_SLICES))
    const slices = rounds * WARM_SLICES
    const runBare = () => measured(bareUse, process.pid, benchMillis, () => autocannon(bareUrl, warmSeconds))
    const runScan = () =>
      measured(scanUse, child.pid, gatewayMillis, () => autocannon(`${gateway}/v1/scans`, warmSeconds, body))
    for (let i = 0; i < slices; i++) {
      if (i % 2 === 0) {
        bs.push(await runBare())
        ss.push(await runScan())
      } else {
        ss.push(await runScan())
        bs.push(await runBare())
      }
      as.push(await autocannon(answerUrl, warmSeconds))
      console.log(`slice ${i + 1}: ${line("bare", bs[i]!)}`)
      console.log(`slice ${i + 1}: ${line("answer", as[i]!)}`)
      console.log(`slice ${i + 1}: ${line("scan", ss[i]!)}`)
    }
    const b = combine(bs)
    const a = combine(as)
    const s = combine(ss)
    const [ipRule] = publicRules(
      {
        perIp: { limit: 1, windowSeconds: 1 },
        perClient: { limit: 1, windowSeconds: 1 },
        overrides: {}
      },
      "127.0.0.1",
      []
    )
    const admitted = await redis.zcard(`${h.prefix}:ratelimit:ip:${ipRule!.key}`)
    console.log(`rate limiter: the bench client's per-IP bucket holds ${admitted} admitted requests (last 60 s)`)
    const conn = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
    const logKey = scanLogKey(h.prefix)
    const q = new Queue("scans", { connection: conn, prefix: h.prefix })
    const answered = s.requests.total - s.non2xx + warm
    // autocannon stops with up to 50 requests in flight: accepted and queued, but not counted by it
    const inFlight = "+ ≤ 50 per slice in flight when autocannon stopped"
    if (withOrchestrator) {
      const t0 = Date.now()
      while (Date.now() - t0 < 120_000) {
        const open = await q.getJobCounts("waiting", "active", "delayed", "prioritized")
        const logged = await conn.xlen(logKey)
        if (logged === 0 && Object.values(open).every((n) => n === 0)) break
        await new Promise((r) => setTimeout(r, 500))
      }
      const [row] = await h.run(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            sql<{ rows: string; ids: string }>`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM scan_events`
        )
      )
      console.log(
        `scan_events rows=${row?.rows} distinct=${row?.ids} after draining ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
          `(answered 200: ${answered} incl. warm-up, ${inFlight})`
      )
    } else {
      const queued = await queuedScans(q, conn, logKey)
      console.log(
        `recorded scans=${queued.scans} unique=${queued.unique} in ${queued.entries} scan log entries and ${queued.jobs} jobs ` +
          `(answered 200: ${answered} incl. warm-up, ${inFlight})`
      )
    }
    await q.obliterate({ force: true })
    await conn.del(logKey)
    await q.close()
    conn.disconnect()
    const perRequest = (ms: number, r: LoadResult) => ((ms * 1000) / Math.max(1, r.requests.total)).toFixed(1)
    console.log(
      `cpu per request: bare ${perRequest(bareUse.processMs, b)} µs (bench process) + ${perRequest(bareUse.redisMs, b)} µs redis, ` +
        `scan ${perRequest(scanUse.processMs, s)} µs (gateway process) + ${perRequest(scanUse.redisMs, s)} µs redis ` +
        "(redis is shared: other work on it counts too)"
    )
    const loadMs = slices * warmSeconds * 1000
    const busyOf = (t: { busy: number; total: number }) => t.busy / Math.max(1, t.total)
    for (const l of warmVerdict(
      {
        requests: b.requests.total,
        loadMs,
        processMs: bareUse.processMs,
        mainMs: bareUse.mainMs,
        busy: busyOf(bareUse),
        loadGeneratorMs: bareUse.generatorMs
      },
      {
        requests: s.requests.total,
        loadMs,
        processMs: scanUse.processMs,
        mainMs: scanUse.mainMs,
        busy: busyOf(scanUse),
        loadGeneratorMs: scanUse.generatorMs
      }
    ))
      console.log(l)
    console.log(
      answerBaselineLine(
        b.requests.average,
        a.requests.average,
        s.requests.average,
        answerBytes,
        Object.keys(answerHeaders).length
      )
    )
    console.log(line("bare", b))
    console.log(line("answer", a))
    console.log(line("scan", s))
    const pairs = pairedRatios(bs, ss)
    console.log(
      `warm scan / bare, slice by slice (each pair back to back): ${pairs.map((r) => r.toFixed(3)).join(" ")} — ` +
        `median ${median(pairs).toFixed(3)} (the ratio); of the totals ${(s.requests.average / b.requests.average).toFixed(3)}`
    )
    const ratio = `ratio=${median(pairs).toFixed(3)}`
    // bench:queue offers its leaf-latency phase this machine's sustained ingest (scripts/bench/WarmRate.ts)
    recordWarmRate({
      scansPerSecond: s.requests.average,
      bareRequestsPerSecond: b.requests.average,
      measuredAt: new Date().toISOString()
    })
    if (cold === undefined) {
      console.log(ratio)
      return
    }
    console.log(`${ratio} cold_ratio=${(await runCold(cold.scanners)).toFixed(3)}`)
  } finally {
    if (gatewayProcess !== undefined) await stopChild(gatewayProcess, 5000)
    for (const child of backendProcesses.values()) await stopChild(child, 5000)
    bare.close()
    answerServer.close()
    redis.disconnect()
    await h.close()
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench:scan failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
)
