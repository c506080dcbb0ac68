/**
 * `npm run bench:memory`: the resident memory of every workload, each run as its own process from the compiled
 * build (`node dist/services/main.js`, SERVICE=<name>, the V8 flags its pod gets), as Kubernetes and compose
 * run them. Builds first when dist/ is older than the sources.
 *
 * 1. Start: each workload alone in turn (brain, policy, knowledge first, the gateway last), timed from spawn to
 *    `/health/ready` answering 200; RSS when ready.
 * 2. Idle: nothing is asked of them for BENCH_IDLE_SECONDS (default 75: V8's memory reducer gives back the
 *    start-up heap some 30–60 s after the last major GC); RSS at the end.
 * 3. Load: the scan bench's load — autocannon, 50 connections, POST /v1/scans against the gateway for
 *    BENCH_ROUNDS × BENCH_SECONDS (default 2 × 10 s) — which reaches brain, policy and knowledge over HTTP
 *    (cache misses), the orchestrator (the `scans` queue) and agentic (scan events). RSS sampled every 100 ms;
 *    the peak is reported, with VmHWM (the kernel's high-water mark, start-up included).
 *
 * RSS counts the process and its children (the console's esbuild service, were it left running), read from
 * /proc/<pid>/status (VmRSS). Goal: idle ≤ 120 MiB, peak under load ≤ 200 MiB, for every workload; and the
 * figures within the pod's memory request (idle) and limit (peak) that the stacks set (ServiceCatalog
 * `memory`). Its own database, key/queue/stream prefixes and PORT_OFFSET (BENCH_PORT_OFFSET, default 12000).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Redacted } from "effect"
import { callUrlVariable, localUrl, type ServiceName, Services } from "../shared/ServiceCatalog.js"
import { autocannon, stopChild } from "../shared/testing/Processes.js"
import { deleteStreams } from "../shared/testing/TestStreams.js"
import { workloadsFor } from "../stacks/workloads.js"
import { digitalLinkOf, JWT_SECRET, makeHarness, postJson } from "../services/gateway/testing/ScanPathHarness.js"

/** The URLs of a service's callees as this run places them: one host, ports shifted by the run's offset. */
const callsAt = (service: ServiceName, portOffset: number): Record<string, string> =>
  Object.fromEntries(Services[service].calls.map((c) => [callUrlVariable(c), localUrl(c, portOffset)]))

const GOAL_IDLE_MIB = 120
const GOAL_LOADED_MIB = 200
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? "75")
const seconds = Number(process.env.BENCH_SECONDS ?? "10")
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? "2"))
const portOffset = Number(process.env.BENCH_PORT_OFFSET ?? "12000")
/** BENCH_WORKLOADS=orchestrator,orchestrator-beat: only these workloads (no load phase unless the scan path is among them) */
const only = (process.env.BENCH_WORKLOADS ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "")
const entry = "dist/services/main.js"

/** newest modification time under the compiled directories' sources */
const newestSource = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return Math.max(newest, newestSource(path))
    return e.name.endsWith(".ts") ? Math.max(newest, statSync(path).mtimeMs) : newest
  }, 0)

const buildIfNeeded = () => {
  const sources = Math.max(...["services", "shared", "migrations", "scripts"].map(newestSource))
  if (existsSync(entry) && statSync(entry).mtimeMs >= sources) return
  console.log("dist/ is older than the sources: npm run build")
  execFileSync("npm", ["run", "build"], { stdio: "inherit" })
}

/** resident KiB of a process and all its descendants (from /proc; 0 once it has exited) */
const status = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return Number(m?.[1] ?? 0)
  } catch {
    return 0
  }
}
const children = (pid: number): ReadonlyArray<number> => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, "utf8")
        .split(" ")
        .filter((s) => s.trim() !== "")
        .map(Number)
    )
  } catch {
    return []
  }
}
const treeKiB = (pid: number, field: "VmRSS" | "VmHWM"): number =>
  status(pid, field) + children(pid).reduce((sum, c) => sum + treeKiB(c, field), 0)
const mib = (kib: number) => kib / 1024

interface Running {
  readonly name: string
  readonly service: keyof typeof Services
  readonly nodeOptions: string
  readonly child: ChildProcess
  readonly readyMs: number
  readonly readyKiB: number
  idleKiB: number
  peakKiB: number
}

/** The scan bench's load against the gateway, sampling every workload's RSS every 100 ms. */
const loadPhase = async (
  seed: { readonly owned: Parameters<typeof digitalLinkOf>[0] },
  running: ReadonlyArray<Running>
) => {
  const gateway = `http://127.0.0.1:${Services.gateway.port + portOffset}`
  const body = JSON.stringify({ tag: digitalLinkOf(seed.owned), context: { region: "FR" } })
  const warm = await postJson(`${gateway}/v1/scans`, body)
  if (warm.status !== 200) throw new Error(`warm-up scan answered ${warm.status}: ${JSON.stringify(warm.json)}`)
  const sampler = setInterval(() => {
    for (const r of running) r.peakKiB = Math.max(r.peakKiB, treeKiB(r.child.pid ?? 0, "VmRSS"))
  }, 100)
  const results = []
  for (let i = 0; i < rounds; i++) results.push(await autocannon(`${gateway}/v1/scans`, seconds, body))
  // the orchestrator and agentic keep working through what the load queued: sample a little longer
  await new Promise((r) => setTimeout(r, 3000))
  clearInterval(sampler)
  const exited = running.filter((r) => r.child.exitCode !== null || r.child.signalCode !== null)
  if (exited.length > 0) throw new Error(`exited during the run: ${exited.map((r) => r.name).join(", ")}`)
  const scans = results.reduce((a, r) => a + r.requests.total, 0)
  const failed = results.reduce((a, r) => a + r.non2xx + r.errors, 0)
  const rate = results.reduce((a, r) => a + r.requests.average, 0) / results.length
  console.log(`load: ${scans} scans in ${rounds} × ${seconds} s (${Math.round(rate)} req/s), ${failed} not 200`)
  return { scans, failed, rate }
}

const main = async () => {
  buildIfNeeded()
  const h = await makeHarness("mem")
  const running: Array<Running> = []
  try {
    const seed = await h.seed()
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      HTTP_HOST: "127.0.0.1",
      PORT_OFFSET: String(portOffset),
      DATABASE_URL: Redacted.value(h.config.database.url),
      REDIS_KEY_PREFIX: h.config.redis.keyPrefix,
      QUEUE_PREFIX: h.config.queues.prefix,
      NATS_STREAM_PREFIX: h.config.nats.streamPrefix,
      NATS_SUBJECT_PREFIX: h.config.nats.subjectPrefix,
      JWT_SECRET,
      LOG_LEVEL: "warn",
      // the bench client is 127.0.0.1: every scan passes the limiter, as in bench:scan
      RATE_LIMIT_OVERRIDES: "ip:127.0.0.1=100000000/60"
    }
    // the production workloads (orchestrator worker and beat apart), the scan path's backends first
    const order = ["brain", "policy", "knowledge"]
    // callees at their one-host addresses: 127.0.0.1 and their port shifted by this run's offset
    const all = [...workloadsFor("production", () => "127.0.0.1")]
    const unknown = only.filter((n) => !all.some((w) => w.name === n))
    if (unknown.length > 0)
      throw new Error(
        `BENCH_WORKLOADS: no workload named ${unknown.join(", ")} (there are ${all.map((w) => w.name).join(", ")})`
      )
    const workloads = all
      .filter((w) => only.length === 0 || only.includes(w.name))
      .sort(
        (a, b) =>
          (order.includes(b.service) ? 1 : 0) - (order.includes(a.service) ? 1 : 0) ||
          (a.service === "gateway" ? 1 : 0) - (b.service === "gateway" ? 1 : 0)
      )
    for (const [i, w] of workloads.entries()) {
      // the pod's V8 flags (ServiceCatalog memory.nodeOptions); BENCH_NODE_OPTIONS replaces them for an experiment
      const nodeOptions = process.env.BENCH_NODE_OPTIONS ?? w.extraEnv.NODE_OPTIONS ?? ""
      // a second workload of one service (the orchestrator's beat) listens one port further along
      const offset = portOffset + workloads.slice(0, i).filter((o) => o.service === w.service).length
      const t0 = performance.now()
      const child = spawn(process.execPath, [entry], {
        env: {
          ...env,
          ...w.extraEnv,
          ...callsAt(w.service, portOffset),
          SERVICE: w.service,
          NODE_OPTIONS: nodeOptions,
          PORT_OFFSET: String(offset)
        },
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      child.stderr?.on("data", (b: Buffer) => {
        stderr = (stderr + b.toString()).slice(-4000)
      })
      const url = `http://127.0.0.1:${Services[w.service].port + offset}/health/ready`
      let readyMs = -1
      while (performance.now() - t0 < 60_000) {
        if (child.exitCode !== null) throw new Error(`${w.name} exited ${child.exitCode}: ${stderr}`)
        const ok = await fetch(url).then(
          (r) => r.status === 200,
          () => false
        )
        if (ok) {
          readyMs = performance.now() - t0
          break
        }
        await new Promise((r) => setTimeout(r, 25))
      }
      if (readyMs < 0) throw new Error(`${w.name} not ready after 60 s: ${stderr}`)
      const readyKiB = treeKiB(child.pid ?? 0, "VmRSS")
      running.push({ name: w.name, service: w.service, nodeOptions, child, readyMs, readyKiB, idleKiB: 0, peakKiB: 0 })
      console.log(`${w.name.padEnd(18)} ready in ${Math.round(readyMs)} ms, ${mib(readyKiB).toFixed(1)} MiB`)
    }

    console.log(`idle for ${idleSeconds} s…`)
    await new Promise((r) => setTimeout(r, idleSeconds * 1000))
    for (const r of running) r.idleKiB = treeKiB(r.child.pid ?? 0, "VmRSS")

    // the load needs the scan path: the gateway and the three services it calls
    const scanPath = ["gateway", "brain", "policy", "knowledge"].every((n) => running.some((r) => r.name === n))
    const { failed, rate } = scanPath ? await loadPhase(seed, running) : { failed: 0, rate: 0 }
    if (!scanPath) console.log("load: skipped (BENCH_WORKLOADS leaves out the scan path)")

    const budget = (r: Running) => Services[r.service].memory
    const rows = running.map((r) => {
      const hwm = treeKiB(r.child.pid ?? 0, "VmHWM")
      const idle = mib(r.idleKiB)
      const peak = mib(r.peakKiB)
      const goal = idle <= GOAL_IDLE_MIB && peak <= GOAL_LOADED_MIB
      const fits = idle <= budget(r).requestMiB && Math.max(peak, mib(hwm)) <= budget(r).limitMiB
      return {
        workload: r.name,
        NODE_OPTIONS: r.nodeOptions,
        "ready (ms)": Math.round(r.readyMs),
        "RSS at ready": mib(r.readyKiB).toFixed(1),
        "RSS idle": idle.toFixed(1),
        "RSS peak, load": scanPath ? peak.toFixed(1) : "–",
        VmHWM: mib(hwm).toFixed(1),
        "request/limit": `${budget(r).requestMiB}/${budget(r).limitMiB}`,
        goal: goal ? "ok" : "OVER",
        pod: fits ? "fits" : "OVER"
      }
    })
    console.log(
      `\nRSS in MiB; goal: idle ≤ ${GOAL_IDLE_MIB}, peak under load ≤ ${GOAL_LOADED_MIB}; load: ${Math.round(rate)} scans/s`
    )
    console.table(rows)
    const over = rows.filter((r) => r.goal !== "ok" || r.pod !== "fits")
    console.log(
      over.length === 0
        ? "every workload within the goal and its pod's request/limit"
        : `over: ${over.map((r) => r.workload).join(", ")}`
    )
    if (failed > 0) process.exitCode = 1
    // SIGTERM every workload, as Kubernetes does: each must drain and exit 0 within its grace period
    const stops = await Promise.all(
      running.map(async (r) => {
        const t0 = performance.now()
        await stopChild(r.child, 15_000)
        return { workload: r.name, "SIGTERM → exit (ms)": Math.round(performance.now() - t0), code: r.child.exitCode }
      })
    )
    console.table(stops)
    const unclean = stops.filter((s) => s.code !== 0)
    if (unclean.length > 0) {
      console.log(`did not exit 0 on SIGTERM: ${unclean.map((s) => s.workload).join(", ")}`)
      process.exitCode = 1
    }
  } finally {
    await Promise.all(running.map((r) => stopChild(r.child, 15_000)))
    await deleteStreams(h.config.nats.streamPrefix)
    await h.close()
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(`bench:memory failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
)
