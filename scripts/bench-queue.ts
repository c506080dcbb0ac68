/**
 * persist_scan_event throughput, batched and unbatched, in one run on the real Redis/Postgres/NATS
 * of this machine (its own database, queue prefix and stream, removed afterwards). Each phase:
 * enqueue N scans, start the scans worker, time from its first job to the last row in scan_events;
 * then check that every scan was published on JetStream and had its audit entry appended (to a stub audit log that
 * keeps one entry per key: these phases measure the scans worker's own work). The task is the whole task per scan
 * (INSERT, acked scan.recorded publish, audit append call).
 * Batched = jobs as the gateway adds them (`persistScanJobs`: one job per event-loop turn, here
 * BENCH_SCANS_PER_JOB scans each), up to BENCH_BATCH_SIZE scans per INSERT, BENCH_SCANS_CONCURRENCY
 * batches in flight. Unbatched = one scan per job, batch size 1, 64 jobs in flight.
 * BENCH_WORKERS > 1 adds worker processes (as orchestrator replicas), the same in both phases.
 * Also printed: CPU seconds per process during the phase ("bench" = the worker processes; this
 * machine is shared: "other" is load that is not this benchmark or its servers).
 * V8 runs with the image's NODE_OPTIONS (package.json passes --max-semi-space-size=32, as the Dockerfile does).
 * V8 runs as in the image: package.json starts this with the Dockerfile's NODE_OPTIONS flag
 * (--max-semi-space-size=32; a unit test keeps the two equal), and extra worker processes inherit it.
 * Then the leaf-latency phase (`latencyPhase`: scans offered at BENCH_INGEST_RATE for BENCH_INGEST_SECONDS with
 * the scans worker appending to the real audit log) prints `leaf_latency_p99_ms=`.
 * LAST line: `ratio=<batched/unbatched> events_per_s=<batched>`.
 */
import { deleteRedisPrefix } from "../shared/testing/TestRedis.js"
import { type ChildProcess, spawn } from "node:child_process"
import fs from "node:fs"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Queue } from "bullmq"
import { Effect, ManagedRuntime, Schema } from "effect"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { persistScanJobs } from "../services/orchestrator/Routing.js"
import { testSettings } from "../services/orchestrator/Settings.js"
import {
  deleteStreams,
  newStubState,
  orchestratorStack,
  scanEvent,
  seedGarments,
  waitFor
} from "../services/orchestrator/testing/TestStack.js"
import { ScanEvent } from "../shared/domain/Scan.js"
import { createTestDatabase, testConfig, uniqueId } from "../shared/testing/TestDatabase.js"
import { lastWarmRate } from "./bench/WarmRate.js"

const numberEnv = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`)
  return v
}
const BATCHED_N = numberEnv("BENCH_BATCHED_EVENTS", 40_000)
const UNBATCHED_N = numberEnv("BENCH_UNBATCHED_EVENTS", 5_000)
const SCANS_PER_JOB = numberEnv("BENCH_SCANS_PER_JOB", 20)
const BATCH_SIZE = numberEnv("BENCH_BATCH_SIZE", 1_000)
const CONCURRENCY = numberEnv("BENCH_SCANS_CONCURRENCY", 4)
/** orchestrator worker processes per phase (this one plus BENCH_WORKERS − 1 children), as replicas would run */
const WORKERS = numberEnv("BENCH_WORKERS", 1)
/**
 * leaf-latency phase: scans offered per second — by default what `npm run bench:scan`'s gateway last sustained on
 * this machine (scripts/bench/WarmRate.ts), else 13,700 (its figure of an earlier machine, docs/orchestrator.md)
 * — and for how long
 */
const recordedRate = lastWarmRate()
const INGEST_RATE = numberEnv(
  "BENCH_INGEST_RATE",
  recordedRate === undefined ? 13_700 : Math.round(recordedRate.scansPerSecond)
)
const INGEST_SOURCE =
  process.env.BENCH_INGEST_RATE !== undefined
    ? "BENCH_INGEST_RATE"
    : recordedRate === undefined
      ? "no bench:scan figure recorded on this machine: the default of docs/orchestrator.md"
      : `bench:scan's warm ingest on this machine, ${recordedRate.measuredAt}`
const INGEST_SECONDS = numberEnv("BENCH_INGEST_SECONDS", 10)

const db = await createTestDatabase("benchq")
const id = uniqueId("benchq")
const redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
const client = new pg.Client({ connectionString: db.url })
await client.connect()
const seed = await seedGarments(db.url, 20)

/** an extra worker process (services/orchestrator/testing/WorkerProcess.ts) with the phase's settings */
const startWorkerProcess = async (env: Record<string, string>) => {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv.filter((a) => a.startsWith("--max-semi-space-size")),
      "--import",
      "tsx",
      new URL("../services/orchestrator/testing/WorkerProcess.ts", import.meta.url).pathname
    ],
    { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] }
  )
  let out = ""
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString()
  })
  await waitFor("worker process ready", () => out.includes("READY") || child.exitCode !== null, 60_000)
  if (child.exitCode !== null) throw new Error(`worker process exited early:\n${out}`)
  return child
}

const rowCount = async () => Number((await client.query("SELECT count(*) AS n FROM scan_events")).rows[0].n)

/** scan.recorded messages stored in the phase's streams */
const streamMessages = async (streamPrefix: string) => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  const jsm = await jetstreamManager(nc)
  let n = 0
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(streamPrefix)) n += s.state.messages
  await nc.close()
  return n
}

/** CPU ticks (1/100 s) used so far by each process: pid → [name, ticks]; this process is "bench" */
const cpuTicks = () => {
  const out = new Map<string, readonly [string, number]>()
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
      const name = pid === String(process.pid) ? "bench" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      out.set(pid, [name, Number(f[11]) + Number(f[12])])
    } catch {
      // the process ended meanwhile
    }
  }
  return out
}
/** CPU seconds per role between two samples (processes that ended in between are not counted) */
const cpuSummary = (
  from: ReturnType<typeof cpuTicks>,
  to: ReturnType<typeof cpuTicks>,
  workerPids: ReadonlySet<string>
) => {
  const roles = ["bench", "postgres", "nats-server", "redis-server"]
  const used = new Map<string, number>()
  for (const [pid, [name, ticks]] of to) {
    const key = workerPids.has(pid) ? "bench" : roles.includes(name) ? name : "other"
    used.set(key, (used.get(key) ?? 0) + ticks - (from.get(pid)?.[1] ?? 0))
  }
  return [...roles, "other"].map((k) => `${k} ${((used.get(k) ?? 0) / 100).toFixed(2)}`).join(", ")
}

const phase = async (label: string, n: number, batch: number, concurrency: number, perJob: number) => {
  const names = {
    databaseUrl: db.url,
    queuePrefix: `bmq_${id}_${label}`,
    keyPrefix: `${id}:${label}:`,
    streamPrefix: `T_${id.toUpperCase()}_${label.toUpperCase()}`
  }
  const q = new Queue("scans", { connection: redis, prefix: names.queuePrefix })
  await client.query("TRUNCATE scan_events")
  const events = Array.from({ length: n }, (_, i) =>
    Schema.encodeSync(ScanEvent)(
      Schema.decodeUnknownSync(ScanEvent)(scanEvent(seed.garments[i % seed.garments.length]!))
    )
  )
  const jobs =
    perJob > 1
      ? Array.from({ length: Math.ceil(n / perJob) }, (_, j) => events.slice(j * perJob, (j + 1) * perJob)).flatMap(
          persistScanJobs
        )
      : events.map((e) => ({
          name: "persist_scan_event",
          data: { scans: [e] },
          opts: { jobId: e.scanId, attempts: 5 }
        }))
  // extra worker processes start (and connect) before the jobs are there
  const children: Array<ChildProcess> = []
  for (let w = 1; w < WORKERS; w++)
    children.push(
      await startWorkerProcess({
        DATABASE_URL: db.url,
        QUEUE_PREFIX: names.queuePrefix,
        KEY_PREFIX: names.keyPrefix,
        STREAM_PREFIX: names.streamPrefix,
        QUEUES: "scans",
        SCAN_BATCH: String(batch),
        SCAN_LINGER_MS: batch === 1 ? "0" : "5",
        SCAN_CONCURRENCY: String(concurrency),
        SCAN_JOBS_IN_FLIGHT: String(batch === 1 ? concurrency : 256),
        LOCK_MS: "30000",
        STALLED_MS: "30000"
      })
    )
  const childPids = new Set(children.map((c) => String(c.pid)))
  for (let i = 0; i < jobs.length; i += 2000) await q.addBulk(jobs.slice(i, i + 2000))
  const settings = testSettings({
    role: "worker",
    scanBatchSize: batch,
    scanBatchLingerMs: batch === 1 ? 0 : 5,
    scanJobsInFlight: batch === 1 ? concurrency : 256,
    concurrency: { default: 1, scans: concurrency, blockchain: 1, audit: 1, notifications: 1 },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000
  })
  const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: names.queuePrefix, DATABASE_POOL_MAX: "10" })
  // the audit log is a stub here (it records each entry once by key, as the sequencer does): this phase measures the
  // scans worker's own work; the latency phase below runs it on the real audit log
  const stubs = newStubState()
  const rt = ManagedRuntime.make(orchestratorStack(names, config, settings, stubs, { queues: ["scans"] }))
  // the clock starts when the worker takes its first job: connecting and starting are not throughput
  const tStart = performance.now()
  let tFirst: number | undefined
  const watch = (async () => {
    while (tFirst === undefined) {
      if ((await q.getActiveCount()) > 0 || (await q.getCompletedCount()) > 0) tFirst = performance.now()
      else await new Promise((r) => setTimeout(r, 2))
    }
  })()
  const cpu0 = cpuTicks()
  await rt.runPromise(Effect.void)
  await watch
  const t0 = tFirst ?? performance.now()
  await waitFor(`${label}: ${n} rows`, async () => (await rowCount()) >= n, 600_000, 10)
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuSummary(cpu0, cpuTicks(), childPids)
  await rt.dispose()
  for (const c of children) {
    const exited = new Promise((r) => c.once("exit", r))
    c.kill("SIGTERM")
    await exited
  }
  const published = await streamMessages(names.streamPrefix)
  // the entries appended in this process (extra worker processes append to their own stubs)
  const audited = stubs.audits.length
  await q.close()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteStreams(names.streamPrefix)
  if (published !== n || (WORKERS === 1 && audited !== n))
    throw new Error(
      `${label}: ${n} scans but ${published} scan.recorded messages and ${audited} audit entries appended`
    )
  const rate = n / seconds
  console.log(
    `${label}: ${n} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} events/s (start-up before the first job ${((t0 - tStart) / 1000).toFixed(2)} s, not counted; ${perJob} scan(s) per job, ${jobs.length} jobs, up to ${batch} per INSERT, ${concurrency} in flight, ${WORKERS} worker process(es); ${published} published, ${WORKERS === 1 ? `${audited} audit entries appended` : `${audited} audit entries appended in this process`})`
  )
  console.log(`${label}: CPU seconds during the phase: ${cpu}`)
  return rate
}

/**
 * Leaf latency (scan accepted → its audit leaf appended): scans are added at INGEST_RATE per second for
 * INGEST_SECONDS, each stamped when it is added (as the gateway stamps an accepted scan), in jobs of
 * SCANS_PER_JOB, while this process runs the scans worker, appending to the real audit log (the
 * sequencer on this database). p50/p99/max of appended_at − recorded_at over the phase's leaves.
 */
const latencyPhase = async () => {
  const label = "latency"
  const names = {
    databaseUrl: db.url,
    queuePrefix: `bmq_${id}_${label}`,
    keyPrefix: `${id}:${label}:`,
    streamPrefix: `T_${id.toUpperCase()}_${label.toUpperCase()}`
  }
  const settings = testSettings({
    role: "worker",
    scanBatchSize: BATCH_SIZE,
    scanBatchLingerMs: 5,
    scanJobsInFlight: 256,
    concurrency: { default: 1, scans: CONCURRENCY, blockchain: 1, audit: 4, notifications: 1 },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000
  })
  const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: names.queuePrefix, DATABASE_POOL_MAX: "10" })
  const rt = ManagedRuntime.make(
    orchestratorStack(names, config, settings, newStubState(), { queues: ["scans", "audit"], liveAudit: true })
  )
  await rt.runPromise(Effect.void)
  const q = new Queue("scans", { connection: redis, prefix: names.queuePrefix })
  // The scans are made before the clock starts (the producer is the gateway, another pod: its CPU is not the
  // worker's); each slice gets the time it is added at as its scan time, the time its leaf latency runs from.
  const total = INGEST_RATE * INGEST_SECONDS
  const events = Array.from({ length: total }, (_, i) =>
    Schema.encodeSync(ScanEvent)(
      Schema.decodeUnknownSync(ScanEvent)(scanEvent(seed.garments[i % seed.garments.length]!, {}))
    )
  )
  const keys = events.map((e) => `scan-${e.scanId}`)
  const t0 = performance.now()
  let added = 0
  while (performance.now() - t0 < INGEST_SECONDS * 1000) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * INGEST_RATE))
    if (due > added) {
      const scannedAt = new Date().toISOString()
      const slice = events.slice(added, due).map((e) => ({ ...e, scannedAt }))
      const jobs = Array.from({ length: Math.ceil(slice.length / SCANS_PER_JOB) }, (_, j) =>
        slice.slice(j * SCANS_PER_JOB, (j + 1) * SCANS_PER_JOB)
      ).flatMap(persistScanJobs)
      await q.addBulk(jobs)
      added = due
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  const offered = (added / (performance.now() - t0)) * 1000
  // progress from the leaf index (this phase is the only one appending to this database's log); the keys are
  // checked once, at the end — a poll with every key would cost Postgres more than the appends it waits for
  const appended = async () =>
    Number((await client.query("SELECT coalesce(max(leaf_index) + 1, 0) AS n FROM audit_leaves")).rows[0].n)
  await waitFor(`${label}: ${added} leaves`, async () => (await appended()) >= added, 600_000, 100)
  const leaves = Number(
    (
      await client.query("SELECT count(*) AS n FROM audit_leaves WHERE idempotency_key = ANY($1)", [
        keys.slice(0, added)
      ])
    ).rows[0].n
  )
  if (leaves !== added) throw new Error(`${label}: ${added} scans offered, ${leaves} of their leaves in the log`)
  const drained = (performance.now() - t0) / 1000
  const r = (
    await client.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
         max(ms) AS max FROM (SELECT extract(epoch FROM appended_at - recorded_at) * 1000 AS ms
         FROM audit_leaves WHERE idempotency_key = ANY($1)) x`,
      [keys.slice(0, added)]
    )
  ).rows[0]
  await rt.dispose()
  await q.close()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteStreams(names.streamPrefix)
  console.log(
    `${label}: ${added} scans offered at ${Math.round(offered)}/s (${INGEST_SOURCE}) for ${INGEST_SECONDS} s (${SCANS_PER_JOB} per job), every leaf appended by ${drained.toFixed(2)} s; leaf latency (scan accepted → leaf appended) p50=${Math.round(r.p50)} ms p99=${Math.round(r.p99)} ms max=${Math.round(r.max)} ms`
  )
  return Number(r.p99)
}

try {
  const batched = await phase("batched", BATCHED_N, BATCH_SIZE, CONCURRENCY, SCANS_PER_JOB)
  const unbatched = await phase("unbatched", UNBATCHED_N, 1, 64, 1)
  const p99 = await latencyPhase()
  console.log(`leaf_latency_p99_ms=${Math.round(p99)} goal=2000`)
  console.log(`ratio=${(batched / unbatched).toFixed(2)} events_per_s=${Math.round(batched)}`)
} finally {
  await client.end()
  await redis.quit()
  await deleteRedisPrefix(`${id}:`)
  await db.drop()
}
process.exit(0)
