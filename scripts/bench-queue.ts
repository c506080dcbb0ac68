/**
 * persist_scan_event throughput, batched and unbatched, in one run on the real Redis/Postgres/NATS
 * of this machine (its own database, queue prefix and stream, removed afterwards). Each phase:
 * enqueue N scans with addBulk, start the scans worker, time until every row is in scan_events.
 * The task is the whole task (INSERT, scan.recorded publish, audit follow-up enqueue).
 * Unbatched = batch size 1 with 16× the concurrency, so both phases have work in flight.
 * LAST line: `ratio=<batched/unbatched> events_per_s=<batched>`.
 */
import { Effect, ManagedRuntime } from "effect"
import pg from "pg"
import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { createTestDatabase, testConfig, uniqueId } from "../shared/testing/TestDatabase.js"
import { testSettings } from "../services/orchestrator/Settings.js"
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

const db = await createTestDatabase("benchq")
const id = uniqueId("benchq")
const redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
const client = new pg.Client({ connectionString: db.url })
await client.connect()
const seed = await seedGarments(db.url, 20)

const phase = async (label: string, n: number, batch: number, concurrency: number) => {
  const names = {
    databaseUrl: db.url,
    queuePrefix: `bmq_${id}_${label}`,
    keyPrefix: `${id}:${label}:`,
    streamPrefix: `T_${id.toUpperCase()}_${label.toUpperCase()}`
  }
  const q = new Queue("scans", { connection: redis, prefix: names.queuePrefix })
  await client.query("TRUNCATE scan_events")
  for (let i = 0; i < n; i += 2000) {
    await q.addBulk(
      Array.from({ length: Math.min(2000, n - i) }, (_, k) => {
        const e = scanEvent(seed.garments[(i + k) % seed.garments.length]!)
        return { name: "persist_scan_event", data: e, opts: { jobId: e.scanId, attempts: 5, removeOnComplete: true } }
      })
    )
  }
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
  await q.close()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteStreams(names.streamPrefix)
  const rate = n / seconds
  console.log(
    `${label}: ${n} events in ${seconds.toFixed(2)} s = ${Math.round(rate)} events/s (batch ${batch}, concurrency ${concurrency})`
  )
  return rate
}

try {
  const batched = await phase("batched", BATCHED_N, 500, 4)
  const unbatched = await phase("unbatched", UNBATCHED_N, 1, 64)
  console.log(`ratio=${(batched / unbatched).toFixed(2)} events_per_s=${Math.round(batched)}`)
} finally {
  await client.end()
  await redis.quit()
  await deleteRedisPrefix(`${id}:`)
  await db.drop()
}
process.exit(0)
