import { randomUUID } from "node:crypto"
import { Queue } from "bullmq"
import { Effect, Exit, Layer, Scope } from "effect"
import { Redis as IORedis } from "ioredis"
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest"
import { MaxScansPerJob } from "../../../shared/domain/Scan.js"
import { DeadLetterQueue, makeQueuesLayer } from "../../../shared/layers/Queues.js"
import { deleteRedisPrefix } from "../../../shared/testing/TestRedis.js"
import { scanEvent, waitFor } from "../testing/TestStack.js"
import { ScanLogField, scanLogEntries, scanLogKey, scanLogLeaseKey } from "../ScanLog.js"
import { FirstReadEntries, makeScanRelay, runScanRelay, ScansPerRead } from "./Relay.js"

/**
 * The scan log's relay on the real Redis (a prefix per test): entries into persist_scan_event jobs exactly as logged,
 * one relay at a time, a crash between the add and the delete, bad entries dead-lettered, the loop of a worker process.
 */
const url = "redis://127.0.0.1:6379"
const redis = new IORedis(url, { maxRetriesPerRequest: null })
const opened: Array<{ close: () => Promise<unknown> }> = []
let prefix = ""

beforeEach(() => {
  prefix = `relay${randomUUID().slice(0, 8)}`
})

afterEach(async () => {
  await deleteRedisPrefix(`${prefix}:`)
})

afterAll(async () => {
  for (const o of opened) await o.close().catch(() => undefined)
  redis.disconnect()
})

const open = () => {
  const connection = new IORedis(url, { maxRetriesPerRequest: null })
  const reader = connection.duplicate()
  const scans = new Queue("scans", { connection, prefix })
  const dlq = new Queue(DeadLetterQueue, { connection, prefix })
  opened.push(
    { close: () => scans.close() },
    { close: () => dlq.close() },
    { close: async () => connection.disconnect() },
    { close: async () => reader.disconnect() }
  )
  return { connection, reader, scans, dlq }
}

const relayOn = (
  c: ReturnType<typeof open>,
  o: { owner?: string; leaseMs?: number; maxEntries?: number; failAfterAdd?: () => boolean } = {}
) =>
  makeScanRelay({
    connection: c.connection,
    reader: c.reader,
    prefix,
    add: async (jobs) => {
      await c.scans.addBulk([...jobs])
      if (o.failAfterAdd?.() === true) throw new Error("killed between the add and the delete")
    },
    deadLetter: (l) => c.dlq.add("dead_letter", { entryId: l.entryId, raw: l.raw, error: l.error }),
    options: {
      blockMs: 0,
      ...(o.owner !== undefined ? { owner: o.owner } : {}),
      ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
      ...(o.maxEntries !== undefined ? { maxEntries: o.maxEntries } : {})
    }
  })

const garment = randomUUID()
/** logs `n` scans as the gateway does (one entry per MaxScansPerJob); their ids */
const logScans = async (n: number) => {
  const events = Array.from({ length: n }, () => scanEvent(garment))
  // as the gateway splices them: each scan's own fields, then the rest its scans of one garment share
  const logged = events.map(({ scanId, scannedAt, ...rest }) => ({
    head: `{"scanId":${JSON.stringify(scanId)},"scannedAt":${JSON.stringify(scannedAt)},`,
    tail: JSON.stringify(rest).slice(1)
  }))
  for (const fields of scanLogEntries(logged)) await redis.xadd(scanLogKey(prefix), "*", ...fields)
  return events.map((e) => e.scanId)
}

const queuedJobs = async (q: Queue) => {
  const jobs = await q.getJobs(["waiting", "prioritized", "delayed"])
  return jobs.map((j) => ({
    id: j.id ?? "",
    name: j.name,
    scans: (j.data as { scans: Array<{ scanId: string }> }).scans
  }))
}

describe("the scan log relay", () => {
  it("moves every logged scan, in order, into jobs of whole entries (at most MaxScansPerJob scans), then deletes the entries", async () => {
    const c = open()
    const ids = [...(await logScans(3)), ...(await logScans(600)), ...(await logScans(600)), ...(await logScans(1))]
    const relay = relayOn(c)
    const p = await relay.drain()
    expect(p).toMatchObject({ held: true, entries: 4, scans: 1204, deadLettered: 0 })
    const jobs = await queuedJobs(c.scans)
    // 3 + 600 fit one job; the next 600 would pass 1000: a second job with 600 + 1
    expect(jobs.map((j) => j.scans.length).sort((a, b) => a - b)).toEqual([601, 603])
    expect(jobs.every((j) => j.name === "persist_scan_event" && j.scans.length <= MaxScansPerJob)).toBe(true)
    expect(jobs.every((j) => /^scans-log-\d+-\d+-\d+-\d+$/.test(j.id))).toBe(true)
    const queued = jobs.sort((a, b) => a.id.localeCompare(b.id)).flatMap((j) => j.scans.map((s) => s.scanId))
    expect(queued).toEqual(ids)
    expect(await redis.xlen(scanLogKey(prefix))).toBe(0)
    const job = (await c.scans.getJobs(["waiting"]))[0]
    expect(job?.opts.attempts).toBeGreaterThanOrEqual(3)
    expect(job?.opts.backoff).toBeDefined()
  })

  it("a pass repeated after a crash between the add and the delete adds no second job, and loses nothing when more was logged since", async () => {
    const c = open()
    const first = await logScans(5)
    let crash = true
    const relay = relayOn(c, { failAfterAdd: () => crash })
    await expect(relay.pass(0)).rejects.toThrow("killed between the add and the delete")
    expect(await redis.xlen(scanLogKey(prefix))).toBe(1)
    // the same entry again: the same job id, so BullMQ keeps one job
    crash = false
    await relay.pass(0)
    expect((await queuedJobs(c.scans)).length).toBe(1)
    // crashed again, and more scans logged before the retry: the retry's job carries both entries under another id
    const second = await logScans(4)
    crash = true
    const third = await logScans(2)
    await expect(relay.pass(0)).rejects.toThrow()
    crash = false
    const fourth = await logScans(3)
    await relay.drain()
    const jobs = await queuedJobs(c.scans)
    const queued = jobs.flatMap((j) => j.scans.map((s) => s.scanId))
    // every scan is queued (some twice, which the persist task's scan ids make harmless), none lost
    for (const id of [...first, ...second, ...third, ...fourth]) expect(queued).toContain(id)
    expect(new Set(queued).size).toBe(first.length + second.length + third.length + fourth.length)
    expect(await redis.xlen(scanLogKey(prefix))).toBe(0)
  })

  it("reads a backlog of full entries a few at a time, and small entries many at once", async () => {
    const c = open()
    // 10 full entries (MaxScansPerJob scans each, ~1 MB), then 100 entries of one scan
    await logScans(10 * MaxScansPerJob)
    for (let i = 0; i < 100; i++) await logScans(1)
    const relay = relayOn(c)
    const passes: Array<number> = []
    for (let p = await relay.pass(0); p.entries > 0; p = await relay.pass(0)) passes.push(p.entries)
    // the first pass knows no entry's size; then ScansPerRead's worth of full entries (the third: 2 full and 2
    // small, 500 scans an entry); then 7 (8 × 500 would pass ScansPerRead); then small ones up to maxEntries (64)
    expect(passes.slice(0, 5)).toEqual([FirstReadEntries, ScansPerRead / MaxScansPerJob, 4, 7, 64])
    expect(passes.reduce((a, b) => a + b, 0)).toBe(110)
    expect(Math.max(...passes)).toBe(64)
    const queued = (await queuedJobs(c.scans)).reduce((a, j) => a + j.scans.length, 0)
    expect(queued).toBe(10 * MaxScansPerJob + 100)
  })

  it("one relay at a time: the lease's holder relays, another reads nothing until it is released or expires", async () => {
    const c = open()
    await logScans(1)
    await logScans(1)
    const a = relayOn(c, { owner: "a", leaseMs: 400, maxEntries: 1 })
    const b = relayOn(c, { owner: "b", leaseMs: 400 })
    expect(await a.pass(0)).toMatchObject({ held: true, entries: 1 })
    expect(await b.pass(0)).toMatchObject({ held: false, entries: 0 })
    expect(await redis.xlen(scanLogKey(prefix))).toBe(1)
    await a.release()
    expect(await b.pass(0)).toMatchObject({ held: true, entries: 1 })
    // b stops without releasing (a killed process): a takes over once the lease expires
    await logScans(1)
    expect(await a.pass(0)).toMatchObject({ held: false })
    await waitFor("the lease expires", async () => (await redis.exists(scanLogLeaseKey(prefix))) === 0, 5_000, 50)
    expect(await a.pass(0)).toMatchObject({ held: true, entries: 1 })
    expect(await redis.get(scanLogLeaseKey(prefix))).toBe("a")
  })

  it("an entry that is not a JSON array of scans goes to the dead-letter queue with the reason; the rest is relayed", async () => {
    const c = open()
    const key = scanLogKey(prefix)
    const before = await logScans(2)
    await redis.xadd(key, "*", ScanLogField, "{not json")
    await redis.xadd(key, "*", ScanLogField, "[]")
    await redis.xadd(key, "*", ScanLogField, JSON.stringify({ scanId: "x" }))
    await redis.xadd(key, "*", "other", "[]")
    await redis.xadd(key, "*", ScanLogField, JSON.stringify([1, 2]))
    const after = await logScans(1)
    const p = await relayOn(c).drain()
    expect(p).toMatchObject({ entries: 7, scans: 3, deadLettered: 5 })
    const letters = (await c.dlq.getJobs(["waiting"])).map((j) => (j.data as { error: string }).error).sort()
    expect(letters).toHaveLength(5)
    for (const reason of [
      "scans: is empty",
      "scans: is missing (fields other)",
      "scans: is not an array",
      "scans[0]: is not an object"
    ])
      expect(letters).toContain(reason)
    expect(letters.filter((l) => /^scans: is not JSON \(/.test(l))).toHaveLength(1)
    const queued = (await queuedJobs(c.scans)).flatMap((j) => j.scans.map((s) => s.scanId))
    expect(queued.sort()).toEqual([...before, ...after].sort())
    expect(await redis.xlen(key)).toBe(0)
  })

  it("runs in a worker process: relays what is logged while it runs, and gives the lease up when it stops", async () => {
    const scope = Effect.runSync(Scope.make())
    const layer = makeQueuesLayer({ url, prefix, name: "relay-itest" })
    await Effect.runPromise(
      Layer.buildWithScope(layer, scope).pipe(
        Effect.flatMap((ctx) => runScanRelay({ owner: "worker-1" }).pipe(Effect.provide(ctx), Scope.extend(scope)))
      )
    )
    const c = open()
    const ids = await logScans(7)
    await waitFor("the relay moved the entry", async () => (await queuedJobs(c.scans)).length === 1, 10_000)
    expect((await queuedJobs(c.scans))[0]?.scans.map((s) => s.scanId)).toEqual(ids)
    expect(await redis.get(scanLogLeaseKey(prefix))).toBe("worker-1")
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(await redis.exists(scanLogLeaseKey(prefix))).toBe(0)
  })
})
