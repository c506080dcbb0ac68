/**
 * persist_scan_event throughput, batched and unbatched, in one run on the real Redis/Postgres/NATS
 * of this machine (its own database, queue prefix and stream, removed afterwards). Each phase:
 * enqueue N scans, start the scans worker, time until every row is in scan_events; then check that
 * every scan was published on JetStream and has its audit follow-up queued. The task is the whole
 * task per scan (INSERT, acked scan.recorded publish, audit follow-up enqueue).
 * Batched = jobs as the gateway adds them (`persistScanJobs`: one job per event-loop turn, here
 * BENCH_SCANS_PER_JOB scans each), up to 500 scans per INSERT. Unbatched = one bare scan per job,
 * batch size 1, with 16× the concurrency so both phases have work in flight.
 * LAST line: `ratio=<batched/unbatched> events_per_s=<batched>`.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, ManagedRuntime, Schema } from "effect"
import { ScanEvent } from "../shared/domain/Scan.js"
import pg from "pg"
import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { createTestDatabase, testConfig, uniqueId } from "../shared/testing/TestDatabase.js"
import { testSettings } from "../services/orchestrator/Settings.js"
import { persistScanJobs } from "../services/orchestrator/Routing.js"
import {
  deleteRedisPrefix,
  deleteStreams,
  newStubState,
  orchestratorStack,
  scanEvent,
  seedGarments,
  waitFor
} from "../services/orchestrator/testing/TestStack.js"

const BATCHED_N = Number(process.env.BENCH_BATCHED_EVENTS ?? 20_000)
const UNBATCHED_N = Number(process.env.BENCH_UNBATCHED_EVENTS ?? 5_000)
const SCANS_PER_JOB = Number(process.env.BENCH_SCANS_PER_JOB ?? 50)

const db = await createTestDatabase("benchq")
const id = uniqueId("benchq")
const redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
const client = new pg.Client({ connectionString: db.url })
await client.connect()
const seed = await seedGarments(db.url, 20)

/** scan.recorded messages stored in the phase's streams */
const streamMessages = async (streamPrefix: string) => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  const jsm = await jetstreamManager(nc)
  let n = 0
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(streamPrefix)) n += s.state.messages
  await nc.close()
  return n
}

/** audit entries queued as follow-ups (one-entry jobs or batch jobs) */
const auditEntries = async (q: Queue) => {
  let n = 0
  for (const j of await q.getJobs(["waiting", "prioritized", "delayed"]))
    n += typeof j.data === "object" && j.data !== null && Array.isArray(j.data.entries) ? j.data.entries.length : 1
  return n
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
          data: e,
          opts: { jobId: e.scanId, attempts: 5, removeOnComplete: true }
        }))
  for (let i = 0; i < jobs.length; i += 2000) await q.addBulk(jobs.slice(i, i + 2000))
  const settings = testSettings({
    role: "worker",
    scanBatchSize: batch,
    scanBatchLingerMs: batch === 1 ? 0 : 5,
    concurrency: { default: 1, scans: concurrency, blockchain: 1, audit: 1, notifications: 1, priority: 1 },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000
  })
  const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: names.queuePrefix, DATABASE_POOL_MAX: "10" })
  const rt = ManagedRuntime.make(orchestratorStack(names, config, settings, newStubState(), { queues: ["scans"] }))
  const t0 = performance.now()
  await rt.runPromise(Effect.void)
  await waitFor(
    `${label}: ${n} rows`,
    async () => Number((await client.query("SELECT count(*) AS n FROM scan_events")).rows[0].n) >= n,
    600_000,
    20
  )
  const seconds = (performance.now() - t0) / 1000
  await rt.dispose()
  const published = await streamMessages(names.streamPrefix)
  const audit = new Queue("audit", { connection: redis, prefix: names.queuePrefix })
  const audited = await auditEntries(audit)
  await audit.close()
  await q.close()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteStreams(names.streamPrefix)
  if (published !== n || audited !== n)
    throw new Error(`${label}: ${n} scans but ${published} scan.recorded messages and ${audited} audit entries queued`)
  const rate = n / seconds
  console.log(
    `${label}: ${n} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} events/s (${perJob} scan(s) per job, ${jobs.length} jobs, up to ${batch} per INSERT, concurrency ${concurrency}; ${published} published, ${audited} audit entries queued)`
  )
  return rate
}

try {
  const batched = await phase("batched", BATCHED_N, 500, 4, SCANS_PER_JOB)
  const unbatched = await phase("unbatched", UNBATCHED_N, 1, 64, 1)
  console.log(`ratio=${(batched / unbatched).toFixed(2)} events_per_s=${Math.round(batched)}`)
} finally {
  await client.end()
  await redis.quit()
  await deleteRedisPrefix(`${id}:`)
  await db.drop()
}
process.exit(0)
