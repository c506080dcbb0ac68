import { deleteRedisPrefix } from "../../shared/testing/TestRedis.js"
import { randomUUID } from "node:crypto"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import type { Queue } from "bullmq"
import { Effect, ManagedRuntime, Schema } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MaxScansPerJob, ScanEvent } from "../../shared/domain/Scan.js"
import { type AnyQueueName, DeadLetterQueue, Queues } from "../../shared/layers/Queues.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../../shared/testing/TestDatabase.js"
import { listDeadLetters, replayDeadLetter } from "./DeadLetters.js"
import { persistBatch } from "./scans/Batcher.js"
import { startWorkers } from "./Workers.js"
import { JITTERED_EXPONENTIAL, jobOptionsFor, persistScanJobs, TaskNames } from "./Routing.js"
import { testEventSubjects } from "../../shared/events/ScanEventSubjects.js"
import { testSettings } from "./Settings.js"
import {
  deleteStreams,
  newStubState,
  orchestratorStack,
  scanEvent,
  seedGarments,
  type StackNames,
  waitFor
} from "./testing/TestStack.js"

/** Queue behaviour on real Redis/Postgres/NATS: retries, dead letters, replay, dedupe, priority. */
let db: TestDatabase
let names: StackNames
let seed: Awaited<ReturnType<typeof seedGarments>>
let client: pg.Client
const stubs = newStubState()
const build = (n: StackNames, databaseUrl: string) =>
  ManagedRuntime.make(
    orchestratorStack(
      n,
      testConfig({ DATABASE_URL: databaseUrl, QUEUE_PREFIX: n.queuePrefix }),
      testSettings({ concurrency: { default: 2, scans: 2, blockchain: 1, audit: 2, notifications: 2 } }),
      stubs,
      { queues: ["default", "scans", "audit", "notifications"] }
    )
  )
let rt: ReturnType<typeof build>

const queue = (name: AnyQueueName) => rt.runPromise(Effect.flatMap(Queues, (q) => q.queue(name)))
const stateOf = async (q: Queue, id: string) => (await q.getJob(id))?.getState() ?? "missing"
const fast = { backoff: { type: JITTERED_EXPONENTIAL, delay: 20 } }
/** an audit entry as other services' producers add it (`auditEntryJob`) */
const auditEntry = (key: string) => ({
  idempotencyKey: key,
  kind: "test.entry",
  actor: { _tag: "None" },
  subject: { _tag: "Public", id: `test:${key}` },
  payload: { key },
  timeMs: Date.now()
})
const rows = async (sql: string, params: ReadonlyArray<unknown> = []) => (await client.query(sql, [...params])).rows

/** scan.recorded messages of these scans stored in this file's stream */
const recordedMessages = async (ids: ReadonlyArray<string>) => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  try {
    const js = jetstream(nc)
    const wanted = new Set(ids)
    const found: Array<string> = []
    const stream = `${names.streamPrefix}_${testEventSubjects(names.streamPrefix).scanStream.suffix}`
    const total = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages
    // an ordered (ephemeral) consumer reads the whole stream once
    const consumer = await js.consumers.get(stream)
    const messages = await consumer.fetch({ max_messages: total, expires: 5000 })
    let seen = 0
    for await (const m of messages) {
      const id = m.headers?.get("Nats-Msg-Id") ?? ""
      if (wanted.has(id)) found.push(id)
      if (++seen >= total) break
    }
    return found
  } finally {
    await nc.close()
  }
}
const recorded = async (ids: ReadonlyArray<string>) => new Set(await recordedMessages(ids))
const recordedCount = async (ids: ReadonlyArray<string>) => (await recordedMessages(ids)).length

beforeAll(async () => {
  db = await createTestDatabase("orchq")
  const id = uniqueId("orchq")
  names = { databaseUrl: db.url, queuePrefix: `bmq_${id}`, keyPrefix: `${id}:`, streamPrefix: `T_${id.toUpperCase()}` }
  seed = await seedGarments(db.url, 3)
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
  rt = build(names, db.url)
  await rt.runPromise(Effect.void)
})

afterAll(async () => {
  await rt?.dispose()
  await client?.end()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteRedisPrefix(names.keyPrefix)
  await deleteStreams(names.streamPrefix)
  await db?.drop()
})

describe("orchestrator queues", () => {
  it("retries a failing task with backoff, then succeeds", async () => {
    stubs.failAudit = 2
    const q = await queue("audit")
    const key = `retry-${randomUUID()}`
    const job = await q.add(
      TaskNames.appendAuditEntry,
      auditEntry(key),
      jobOptionsFor(TaskNames.appendAuditEntry, fast)
    )
    await waitFor("append_audit_entry completes", async () => (await stateOf(q, job.id!)) === "completed")
    const done = await q.getJob(job.id!)
    // two failed attempts, then the one that completed
    expect(done?.attemptsMade).toBe(3)
    expect(stubs.audits.map((a) => a.key)).toContain(key)
  })

  it("sends an invalid payload straight to the dead-letter queue, never retried", async () => {
    const q = await queue("scans")
    const job = await q.add(
      TaskNames.persistScanEvent,
      { scanId: "not-a-uuid" },
      { jobId: "bad-1", attempts: 5, backoff: { type: "exponential", delay: 10 } }
    )
    await waitFor("job fails", async () => (await stateOf(q, job.id!)) === "failed")
    const failed = await q.getJob(job.id!)
    expect(failed?.attemptsMade).toBe(1)
    const letters = await rt.runPromise(listDeadLetters())
    const letter = letters.find((l) => l.jobId === "bad-1")
    expect(letter).toMatchObject({ queue: "scans", name: TaskNames.persistScanEvent, unrecoverable: true, attempts: 1 })
    expect(letter?.data).toEqual({ scanId: "not-a-uuid" })
    expect(letter?.error).toMatch(/InvalidPayload/)
  })

  it("dead-letters a job that exhausts its attempts and replays it to its queue", async () => {
    stubs.auditBroken = true
    const q = await queue("audit")
    const key = `dl-${randomUUID()}`
    const job = await q.add(
      TaskNames.appendAuditEntry,
      auditEntry(key),
      jobOptionsFor(TaskNames.appendAuditEntry, { ...fast, attempts: 2, jobId: "audit-dl" })
    )
    await waitFor("job fails", async () => (await stateOf(q, job.id!)) === "failed")
    const letter = (await rt.runPromise(listDeadLetters())).find((l) => l.jobId === "audit-dl")
    expect(letter).toMatchObject({
      queue: "audit",
      name: TaskNames.appendAuditEntry,
      attempts: 2,
      unrecoverable: false
    })
    expect(letter?.error).toMatch(/injected failure/)

    stubs.auditBroken = false
    stubs.failAudit = 0
    expect(await rt.runPromise(replayDeadLetter(letter!.id))).toBe(true)
    await waitFor("replayed job completes", async () => (await stateOf(q, "audit-dl")) === "completed")
    expect(stubs.audits.filter((a) => a.key === key)).toHaveLength(1)
    const dlq = await queue(DeadLetterQueue)
    expect(await dlq.getJob(letter!.id)).toBeUndefined()
  })

  it("persists a scan exactly once when the same job is delivered twice", async () => {
    const q = await queue("scans")
    const event = scanEvent(seed.garments[0]!)
    await q.add(TaskNames.persistScanEvent, { scans: [event] }, { jobId: event.scanId, attempts: 5 })
    await waitFor("first delivery", async () => (await stateOf(q, event.scanId)) === "completed")
    // the same payload again (a redelivery after a crash), twice in one batch
    await q.addBulk([
      { name: TaskNames.persistScanEvent, data: { scans: [event] }, opts: { jobId: `${event.scanId}-again-1` } },
      { name: TaskNames.persistScanEvent, data: { scans: [event] }, opts: { jobId: `${event.scanId}-again-2` } }
    ])
    await waitFor("redeliveries", async () =>
      (await Promise.all([stateOf(q, `${event.scanId}-again-1`), stateOf(q, `${event.scanId}-again-2`)])).every(
        (s) => s === "completed"
      )
    )
    expect(await rows("SELECT id FROM scan_events WHERE id = $1", [event.scanId])).toHaveLength(1)
    // the audit entry was appended by the scans worker before the job completed, once by its key
    expect(stubs.audits.filter((a) => a.key === `scan-${event.scanId}`)).toHaveLength(1)
    expect(stubs.audits.filter((a) => a.timeMs === Date.parse(event.scannedAt))).toHaveLength(1)
  })

  it("persists a job carrying a batch of scans: every row, one publish each, every audit entry in order", async () => {
    const q = await queue("scans")
    const events = Array.from({ length: 40 }, (_, i) => scanEvent(seed.garments[i % 3]!))
    const typed = events.map((e) => Schema.encodeSync(ScanEvent)(Schema.decodeUnknownSync(ScanEvent)(e)))
    const [job] = persistScanJobs(typed)
    expect(job?.opts).toMatchObject({ attempts: 5, backoff: { type: JITTERED_EXPONENTIAL } })
    await q.add(job!.name, job!.data, job!.opts)
    const jobId = job!.opts.jobId!
    await waitFor("batch job completes", async () => (await stateOf(q, jobId)) === "completed")
    expect((await q.getJob(jobId))?.returnvalue).toEqual({ scans: 40, persisted: 40, deadLettered: 0 })
    const ids = events.map((e) => e.scanId)
    expect(await rows("SELECT id FROM scan_events WHERE id = ANY($1::uuid[])", [ids])).toHaveLength(40)
    // appended before the job completed, in the job's order
    const keys = new Set(ids.map((id) => `scan-${id}`))
    expect(stubs.audits.filter((a) => keys.has(a.key)).map((a) => a.key)).toEqual(ids.map((id) => `scan-${id}`))
    const stamps = new Set(events.map((e) => Date.parse(e.scannedAt)))
    await waitFor("audit entries", () => stubs.audits.filter((a) => stamps.has(a.timeMs)).length >= 40)
    expect(await recorded(ids)).toEqual(new Set(ids))
  })

  it("a batch delivered twice (and overlapping a one-scan job) still gives one row and one audit entry per scan", async () => {
    const q = await queue("scans")
    const events = Array.from({ length: 10 }, () => scanEvent(seed.garments[1]!))
    const ids = events.map((e) => e.scanId)
    const single = events[3]!
    // the same scans as two batch jobs and one one-scan job, all in flight together
    await q.addBulk([
      { name: TaskNames.persistScanEvent, data: { scans: events }, opts: { jobId: `dup-a-${ids[0]}` } },
      { name: TaskNames.persistScanEvent, data: { scans: events }, opts: { jobId: `dup-b-${ids[0]}` } },
      { name: TaskNames.persistScanEvent, data: { scans: [single] }, opts: { jobId: single.scanId } }
    ])
    await waitFor("all three complete", async () =>
      (await Promise.all([`dup-a-${ids[0]}`, `dup-b-${ids[0]}`, single.scanId].map((id) => stateOf(q, id)))).every(
        (s) => s === "completed"
      )
    )
    expect(await rows("SELECT id FROM scan_events WHERE id = ANY($1::uuid[])", [ids])).toHaveLength(10)
    // overlapping jobs append overlapping entries: each entry's idempotency key lets it take effect once
    const stamps = events.map((e) => Date.parse(e.scannedAt))
    for (const t of new Set(stamps)) {
      const expected = stamps.filter((x) => x === t).length
      expect(stubs.audits.filter((a) => a.timeMs === t)).toHaveLength(expected)
    }
    // JetStream dropped the repeated publishes by Nats-Msg-Id: one scan.recorded per scan
    expect(await recordedCount(ids)).toBe(10)
  })

  it("dead-letters one bad scan of a batch alone; the others are persisted and the job completes", async () => {
    const q = await queue("scans")
    const good = [scanEvent(seed.garments[0]!), scanEvent(seed.garments[2]!)]
    const unknownGarment = scanEvent(randomUUID())
    const malformed = { ...scanEvent(seed.garments[0]!), regionCode: "france" }
    const jobId = `mixed-${randomUUID()}`
    await q.add(
      TaskNames.persistScanEvent,
      { scans: [good[0], malformed, unknownGarment, good[1]] },
      { jobId, attempts: 5 }
    )
    await waitFor("job completes", async () => (await stateOf(q, jobId)) === "completed")
    expect((await q.getJob(jobId))?.returnvalue).toEqual({ scans: 4, persisted: 2, deadLettered: 2 })
    expect((await q.getJob(jobId))?.attemptsMade).toBe(1)
    expect(
      await rows("SELECT id FROM scan_events WHERE id = ANY($1::uuid[])", [
        [good[0]!.scanId, good[1]!.scanId, unknownGarment.scanId, malformed.scanId]
      ])
    ).toHaveLength(2)
    const letters = await rt.runPromise(listDeadLetters())
    const missing = letters.find((l) => l.jobId === unknownGarment.scanId)
    expect(missing).toMatchObject({ queue: "scans", name: TaskNames.persistScanEvent, unrecoverable: true })
    expect(missing?.error).toMatch(/does not exist/)
    // each letter is a one-scan persist job, replayable as it is
    expect(missing?.data).toMatchObject({ scans: [{ scanId: unknownGarment.scanId }] })
    const bad = letters.find((l) => l.jobId === `invalid-${malformed.scanId}`)
    expect(bad).toMatchObject({ unrecoverable: true, data: { scans: [malformed] } })
    expect(bad?.error).toMatch(/InvalidPayload.*region/s)
  })

  it("sends a batch job whose envelope is invalid straight to dead letters", async () => {
    const q = await queue("scans")
    const tooMany = Array.from({ length: MaxScansPerJob + 1 }, () => ({}))
    for (const [jobId, data] of [
      ["env-empty", { scans: [] }],
      ["env-type", { scans: "nope" }],
      ["env-big", { scans: tooMany }]
    ] as const) {
      await q.add(TaskNames.persistScanEvent, data, { jobId, attempts: 5 })
      await waitFor(`${jobId} fails`, async () => (await stateOf(q, jobId)) === "failed")
      expect((await q.getJob(jobId))?.attemptsMade).toBe(1)
      const letter = (await rt.runPromise(listDeadLetters())).find((l) => l.jobId === jobId)
      expect(letter).toMatchObject({ unrecoverable: true, attempts: 1 })
      expect(letter?.error).toMatch(/InvalidPayload/)
    }
  })

  it("runs the higher-priority job first", async () => {
    // the blockchain queue has no worker in this runtime: add while nobody consumes, then start one
    const q = await queue("blockchain")
    const [low, high] = [101, 102]
    stubs.anchors.length = 0
    const anchor = (treeSize: number) => ({ origin: "brandme/test", treeSize, rootHex: "ab".repeat(32) })
    await q.add(TaskNames.submitChainAnchor, anchor(low), { priority: 10 })
    await q.add(TaskNames.submitChainAnchor, anchor(high), { priority: 1 })
    await rt.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* startWorkers({ queues: ["blockchain"], persist: persistBatch })
          yield* Effect.promise(() => waitFor("both ran", () => stubs.anchors.length === 2))
        })
      )
    )
    expect(stubs.anchors.map((a) => a.treeSize)).toEqual([high, low])
  })
})
