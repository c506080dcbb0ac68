/**
 * `npm run bench:enqueue`: what recording a gateway turn's accepted scans costs, the scan log (one `XADD` of the turn's
 * events, `services/gateway/scans/Enqueue.ts`) against the baseline of the gateway's earlier enqueue (BullMQ `add` of
 * the turn's persist_scan_event job, `persistScanJobs`, of event objects), in one run on this machine's Redis (a key prefix of its own,
 * removed afterwards). The events are real: one scan through the gateway (the scan-path harness: its own database,
 * backends in-process) gives the event the gateway records, and each turn's events are copies with fresh scan ids and
 * times. Per turn size (BENCH_TURN_SIZES, default 1,5,20,50 scans — the warm bench's turns carry ~16), BENCH_TURNS
 * turns (default 4000) are recorded with 4 turns in flight, the two ways alternating BENCH_REPEATS times (default 3);
 * printed: the client's CPU per scan (this process, `process.cpuUsage`) and Redis's (`INFO cpu`; Redis is shared, so
 * others' load counts too), medians over the repeats. Then the relay's cost (`scans/Relay.ts`): the 20-scan turns'
 * entries moved into jobs, per scan, client and Redis.
 * LAST line: `ratio=<scan log / BullMQ add, client + Redis CPU per scan, 20-scan turns>` (below 1: the log is cheaper).
 */
import { randomUUID } from "node:crypto"
import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { eventHead, eventTailOf } from "../services/gateway/scans/Enqueue.js"
import { digitalLinkOf, makeHarness, postJson } from "../services/gateway/testing/ScanPathHarness.js"
import { persistScanJobs, scanLogEntries, scanLogKey } from "../services/orchestrator/Api.js"
import { readScanLogEntry } from "../services/orchestrator/ScanLog.js"
import { addJobsTo, makeScanRelay } from "../services/orchestrator/scans/Relay.js"
import type { ScanEventEncoded } from "../shared/domain/Scan.js"
import { deleteRedisPrefix } from "../shared/testing/TestRedis.js"

const listEnv = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").map((s) => {
    const n = Number(s.trim())
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: every item must be a positive integer, got "${s}"`)
    return n
  })
const [turns = 4000] = listEnv("BENCH_TURNS", "4000")
const [repeats = 3] = listEnv("BENCH_REPEATS", "3")
const sizes = listEnv("BENCH_TURN_SIZES", "1,5,20,50")
const inFlight = 4

/** the event the gateway records for one real scan (read back from the harness's scan log) */
const realEvent = async (): Promise<ScanEventEncoded> => {
  const h = await makeHarness("bench-enqueue")
  try {
    const seed = await h.seed()
    await h.startBackends()
    const gw = await h.startGateway(0, "inprocess")
    const r = await postJson(`${gw}/v1/scans`, { tag: digitalLinkOf(seed.owned), context: { region: "FR" } })
    if (r.status !== 200) throw new Error(`the template scan answered ${r.status}: ${JSON.stringify(r.json)}`)
    const [entry] = await h.redis.xrange(scanLogKey(h.prefix), "-", "+", "COUNT", 1)
    const read = readScanLogEntry(entry?.[1] ?? [])
    if (!("scans" in read)) throw new Error(`the template scan's scan log entry: ${read.error}`)
    return read.scans[0] as ScanEventEncoded
  } finally {
    await h.close()
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

const main = async () => {
  const template = await realEvent()
  console.log(`event: ${JSON.stringify(template).length} bytes of JSON (a real scan's, from the gateway)`)
  const prefix = `benchenq${randomUUID().slice(0, 8)}`
  const redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
  const reader = redis.duplicate()
  const scans = new Queue("scans", { connection: redis, prefix })
  const key = scanLogKey(prefix)
  const redisCpu = async () => {
    const info = await redis.info("cpu")
    const at = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0)
    return at("used_cpu_sys") + at("used_cpu_user")
  }
  // a turn: each scan's own fields; each way builds its events from them and the cached rest, as the gateway does
  const turnsOf = (size: number) =>
    Array.from({ length: turns }, () =>
      Array.from({ length: size }, () => ({ scanId: randomUUID(), scannedAt: new Date().toISOString() }))
    )
  type Turn = ReadonlyArray<{ readonly scanId: string; readonly scannedAt: string }>
  const tail = eventTailOf(template)
  /** client and Redis CPU per scan, µs, of recording every turn with `record` (inFlight turns at a time) */
  const measure = async (all: ReadonlyArray<Turn>, record: (t: Turn) => Promise<unknown>) => {
    const r0 = await redisCpu()
    const c0 = process.cpuUsage()
    for (let i = 0; i < all.length; i += inFlight) await Promise.all(all.slice(i, i + inFlight).map(record))
    const c = process.cpuUsage(c0)
    const r1 = await redisCpu()
    const n = all.reduce((a, t) => a + t.length, 0)
    return { client: (c.user + c.system) / n, redis: ((r1 - r0) * 1e6) / n }
  }
  // the gateway's two ways, as they were written there: the encoded event object spread with the scan's fields and
  // BullMQ's add of the turn's job (203a05e), against the event's JSON spliced and the turn's XADD
  const bullmq = (turn: Turn) => {
    const jobs = persistScanJobs(turn.map((s) => ({ ...template, scanId: s.scanId, scannedAt: s.scannedAt })))
    const [only] = jobs
    return jobs.length === 1 && only !== undefined ? scans.add(only.name, only.data, only.opts) : scans.addBulk(jobs)
  }
  const log = (turn: Turn) => {
    const entries = scanLogEntries(turn.map((s) => ({ head: eventHead(s.scanId, null, s.scannedAt), tail })))
    return Promise.all(entries.map((fields) => redis.xadd(key, "*", ...fields)))
  }
  const relay = makeScanRelay({
    connection: redis,
    reader,
    prefix,
    add: addJobsTo(scans),
    deadLetter: async () => {
      throw new Error("a bench entry was refused")
    },
    options: { blockMs: 0 }
  })
  const fmt = (x: number) => x.toFixed(2).padStart(6)
  let at20: { old: number; log: number } | undefined
  const relayCost: Array<{ client: number; redis: number }> = []
  try {
    // warm both paths' code first (JIT), unmeasured
    await measure(turnsOf(20).slice(0, 500), bullmq)
    await measure(turnsOf(20).slice(0, 500), log)
    await redis.del(key)
    await scans.obliterate({ force: true })
    console.log(
      `${turns} turns per way and size, ${inFlight} in flight, ${repeats} repeats alternating (medians, µs of CPU per scan)`
    )
    for (const size of sizes) {
      const old: Array<{ client: number; redis: number }> = []
      const news: Array<{ client: number; redis: number }> = []
      for (let r = 0; r < repeats; r++) {
        old.push(await measure(turnsOf(size), bullmq))
        await scans.obliterate({ force: true })
        news.push(await measure(turnsOf(size), log))
        if (size === 20) {
          // the relay moves what was just logged: its cost per scan, on the orchestrator's side
          const r0 = await redisCpu()
          const c0 = process.cpuUsage()
          const p = await relay.drain()
          const c = process.cpuUsage(c0)
          const r1 = await redisCpu()
          relayCost.push({ client: (c.user + c.system) / p.scans, redis: ((r1 - r0) * 1e6) / p.scans })
          await scans.obliterate({ force: true })
        }
        await redis.del(key)
      }
      const o = { client: median(old.map((x) => x.client)), redis: median(old.map((x) => x.redis)) }
      const n = { client: median(news.map((x) => x.client)), redis: median(news.map((x) => x.redis)) }
      console.log(
        `turn of ${String(size).padStart(3)} scans: BullMQ add client ${fmt(o.client)} redis ${fmt(o.redis)} | ` +
          `scan log XADD client ${fmt(n.client)} redis ${fmt(n.redis)} | log/add ${((n.client + n.redis) / (o.client + o.redis)).toFixed(3)}`
      )
      if (size === 20) at20 = { old: o.client + o.redis, log: n.client + n.redis }
    }
    if (relayCost.length > 0) {
      const c = median(relayCost.map((x) => x.client))
      const r = median(relayCost.map((x) => x.redis))
      console.log(
        `relay (the orchestrator's side: the 20-scan turns' entries read, grouped into jobs of up to 1000 scans, added, deleted): client ${fmt(c)} redis ${fmt(r)} µs per scan`
      )
    }
  } finally {
    await scans.obliterate({ force: true }).catch(() => undefined)
    await scans.close()
    reader.disconnect()
    redis.disconnect()
    await deleteRedisPrefix(`${prefix}:`)
  }
  console.log(
    at20 === undefined ? "ratio=n/a (no 20-scan turns measured)" : `ratio=${(at20.log / at20.old).toFixed(3)}`
  )
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
