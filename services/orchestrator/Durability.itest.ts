import { deleteRedisPrefix } from "../../shared/testing/TestRedis.js"
import { type ChildProcess, spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Queue } from "bullmq"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, ManagedRuntime, Schema } from "effect"
import { ScanEvent } from "../../shared/domain/Scan.js"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../../shared/testing/TestDatabase.js"
import { auditEntryJob, jobOptionsFor, persistScanJobs, TaskNames } from "./Routing.js"
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

/** Beat with several workers, SIGTERM drain and SIGKILL crash recovery, with workers as real processes. */
const here = dirname(fileURLToPath(import.meta.url))
let db: TestDatabase
let names: StackNames
let client: pg.Client
let redis: IORedis
let seed: Awaited<ReturnType<typeof seedGarments>>
const queues: Array<Queue> = []
const children: Array<ChildProcess> = []

const queue = (name: string) => {
  const q = new Queue(name, { connection: redis, prefix: names.queuePrefix })
  queues.push(q)
  return q
}

const startWorker = async (env: Record<string, string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "testing", "WorkerProcess.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      QUEUE_PREFIX: names.queuePrefix,
      KEY_PREFIX: names.keyPrefix,
      STREAM_PREFIX: names.streamPrefix,
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(child)
  let out = ""
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString()
  })
  // listened for from the start: a worker given a job queued before it started may take it and die at its
  // crash point before the test looks (a SIGKILLed child's exitCode stays null: only the event tells)
  let gone = false
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      gone = true
      resolve(code)
    })
  )
  await waitFor("worker process ready", () => out.includes("READY") || gone, 60_000)
  if (!out.includes("READY")) throw new Error(`worker exited early:\n${out}`)
  return { child, exited, output: () => out }
}

const streamMessages = async () => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  try {
    const jsm = await jetstreamManager(nc)
    let n = 0
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(names.streamPrefix)) n += s.state.messages
    return n
  } finally {
    await nc.close()
  }
}

const count = async () => Number((await client.query("SELECT count(*) AS n FROM scan_events")).rows[0].n)

beforeAll(async () => {
  db = await createTestDatabase("orchdur")
  const id = uniqueId("orchdur")
  names = { databaseUrl: db.url, queuePrefix: `bmq_${id}`, keyPrefix: `${id}:`, streamPrefix: `T_${id.toUpperCase()}` }
  seed = await seedGarments(db.url, 5)
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
  redis = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
})

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  await Promise.all(queues.map((q) => q.close()))
  await redis?.quit()
  await client?.end()
  await deleteRedisPrefix(names.queuePrefix)
  await deleteRedisPrefix(names.keyPrefix)
  await deleteStreams(names.streamPrefix)
  await db?.drop()
})

describe("orchestrator durability", () => {
  it("fires a job scheduler once per interval with three workers running", async () => {
    const stubs = newStubState()
    const settings = testSettings({
      every: { cleanup: 3_600_000, integrity: 1_000, chainSync: 3_600_000, checkpoint: 3_600_000 }
    })
    const config = testConfig({ DATABASE_URL: db.url, QUEUE_PREFIX: names.queuePrefix })
    // three orchestrators (role all): each registers the schedulers and runs an audit-queue worker
    const runtimes = [0, 1, 2].map(() =>
      ManagedRuntime.make(orchestratorStack(names, config, settings, stubs, { queues: ["audit"] }))
    )
    await Promise.all(runtimes.map((r) => r.runPromise(Effect.void)))
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, 5_500))
    const elapsed = Date.now() - t0
    const fired = stubs.verifies
    await Promise.all(runtimes.map((r) => r.dispose()))
    const schedulers = await queue("audit").getJobSchedulers()
    expect(schedulers.filter((s) => s.key === "beat-audit-integrity" || s.id === "beat-audit-integrity")).toHaveLength(
      1
    )
    // once per second, not once per worker per second (that would be ~16)
    expect(fired).toBeGreaterThanOrEqual(Math.floor(elapsed / 1000) - 1)
    expect(fired).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1)
    await queue("audit").removeJobScheduler("beat-audit-integrity")
  })

  it("drains on SIGTERM: the in-flight job finishes, no new job is taken", async () => {
    const q = queue("audit")
    // what the scheduler test above left (its last delayed integrity run) is not this worker's to take
    await q.obliterate({ force: true })
    const w = await startWorker({ QUEUES: "audit", AUDIT_CONCURRENCY: "1", AUDIT_DELAY_MS: "1500" })
    const jobs = await Promise.all(
      [0, 1, 2].map((i) => {
        const job = auditEntryJob({
          idempotencyKey: `drain-${i}-${seed.garments[i]!}`,
          kind: "test.drain",
          actor: { _tag: "None" },
          subject: { _tag: "Public", id: `garment:${seed.garments[i]!}` },
          payload: { i },
          timeMs: Date.now()
        })
        return q.add(job.name, job.data, job.opts)
      })
    )
    await waitFor("first job active", async () => (await jobs[0]!.getState()) === "active")
    w.child.kill("SIGTERM")
    const code = await w.exited
    expect(code).toBe(0)
    expect(await jobs[0]!.getState()).toBe("completed")
    const rest = await Promise.all(jobs.slice(1).map((j) => j.getState()))
    // append_audit_entry carries no priority, so untaken jobs wait in the wait list
    expect(rest).toEqual(["waiting", "waiting"])
  })

  it("loses nothing when the worker is SIGKILLed twice mid-batch: exactly 10,000 rows and 10,000 publishes", async () => {
    const q = queue("scans")
    const total = 10_000
    const events = Array.from({ length: total }, (_, i) =>
      Schema.encodeSync(ScanEvent)(
        Schema.decodeUnknownSync(ScanEvent)(scanEvent(seed.garments[i % seed.garments.length]!))
      )
    )
    // 9,000 scans as the gateway adds them (jobs of 50), 1,000 as one-scan jobs
    const batched = Array.from({ length: 180 }, (_, j) => events.slice(j * 50, (j + 1) * 50)).flatMap(persistScanJobs)
    const bare = events.slice(9_000).map((e) => ({
      name: TaskNames.persistScanEvent,
      data: { scans: [e] },
      opts: jobOptionsFor(TaskNames.persistScanEvent, { jobId: e.scanId })
    }))
    for (let i = 0; i < bare.length; i += 500)
      await q.addBulk([...batched.slice(i / 5, i / 5 + 100), ...bare.slice(i, i + 500)])
    const t0 = Date.now()
    // a lock long enough that a loaded machine does not stall live jobs; killed ones still come back fast
    const env = { QUEUES: "scans", SCAN_BATCH: "250", LOCK_MS: "5000", STALLED_MS: "1000" }
    for (const killAt of [1500, 5000]) {
      const w = await startWorker(env)
      await waitFor(`${killAt} rows`, async () => (await count()) >= killAt, 60_000, 20)
      w.child.kill("SIGKILL")
      await w.exited
    }
    const active = await q.getActiveCount()
    const last = await startWorker(env)
    await waitFor(
      "queue drained",
      async () => {
        const c = await q.getJobCounts("waiting", "active", "delayed", "prioritized")
        return (await count()) >= total && (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0
      },
      90_000,
      200
    )
    last.child.kill("SIGTERM")
    await last.exited
    expect(active).toBeGreaterThan(0)
    expect(await count()).toBe(total)
    expect((await q.getFailed()).map((j) => `${j.id}: ${j.failedReason}`)).toEqual([])
    // every scan published once: the retried batches' repeats were dropped by Nats-Msg-Id
    expect(await streamMessages()).toBe(total)
    expect(Date.now() - t0).toBeLessThan(120_000)
  })
  it("SIGTERM gives the scan jobs the batcher holds unstarted back to wait at once", async () => {
    const q = queue("scans")
    await q.drain()
    const events = Array.from({ length: 20 }, (_, i) => scanEvent(seed.garments[i % seed.garments.length]!))
    const jobs = await q.addBulk(
      events.map((e) => ({
        name: TaskNames.persistScanEvent,
        data: { scans: [e] },
        opts: { jobId: `handback-${e.scanId}` }
      }))
    )
    // a long linger: the worker holds every job, none is written yet
    const w = await startWorker({ QUEUES: "scans", SCAN_BATCH: "1000", SCAN_LINGER_MS: "1000", LOCK_MS: "30000" })
    await waitFor("jobs held", async () => (await q.getActiveCount()) === 20, 10_000, 10)
    const t0 = Date.now()
    w.child.kill("SIGTERM")
    expect(await w.exited).toBe(0)
    // back in wait at once, not after their 30 s lock
    expect(Date.now() - t0).toBeLessThan(5_000)
    expect(await Promise.all(jobs.map((j) => j.getState()))).toEqual(jobs.map(() => "waiting"))
    const ids = events.map((e) => e.scanId)
    const persisted = async () =>
      Number((await client.query("SELECT count(*) AS n FROM scan_events WHERE id = ANY($1::uuid[])", [ids])).rows[0].n)
    expect(await persisted()).toBe(0)
    const next = await startWorker({ QUEUES: "scans" })
    await waitFor("handed-back jobs persisted", async () => (await persisted()) === 20, 30_000)
    next.child.kill("SIGTERM")
    await next.exited
  })

  /**
   * The injected crash point (test-only, TEST_CRASH_POINT) SIGKILLs the worker right after the audit append
   * commits: on the scans path, where the scans worker appends a batch's entries itself before its jobs complete.
   * The retry must find every leaf and append none.
   */
  it("a worker killed between the audit append's commit and the job's completion (a persist_scan_event job of 50 scans): the retry finds one leaf per entry", async () => {
    const q = queue("scans")
    // only this test's job: jobs the tests above queued (waiting, delayed, or active with a lock about to
    // lapse) are not this worker's to take
    await q.obliterate({ force: true })
    const events = Array.from({ length: 50 }, (_, i) => scanEvent(seed.garments[i % seed.garments.length]!))
    const typed = events.map((e) => Schema.encodeSync(ScanEvent)(Schema.decodeUnknownSync(ScanEvent)(e)))
    const [j] = persistScanJobs(typed)
    const job = await q.add(j!.name, j!.data, j!.opts)
    const keys = events.map((e) => `scan-${e.scanId}`)
    const leaves = async () =>
      (
        await client.query(
          "SELECT idempotency_key, count(*)::int AS n FROM audit_leaves WHERE idempotency_key = ANY($1) GROUP BY 1",
          [keys]
        )
      ).rows as Array<{ idempotency_key: string; n: number }>
    const total = async () => Number((await client.query("SELECT count(*) AS n FROM audit_leaves")).rows[0].n)
    const env = { QUEUES: "scans", AUDIT: "live", LOCK_MS: "3000", STALLED_MS: "1000" }
    const doomed = await startWorker({ ...env, TEST_CRASH_POINT: "after-audit-append" })
    const crashed = await Promise.race([
      doomed.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 60_000))
    ])
    if (!crashed)
      throw new Error(
        `the worker never reached its crash point; job ${await job.getState()} after ${job.attemptsMade} attempt(s)` +
          ` (${(await q.getJob(job.id!))?.failedReason ?? "no failure recorded"}):\n${doomed.output()}`
      )
    const killedAt = Date.now()
    expect(doomed.child.signalCode).toBe("SIGKILL")
    // the append committed before the kill; the job did not complete
    expect((await leaves()).length).toBe(50)
    expect(await job.getState()).toBe("active")
    const before = await total()
    const next = await startWorker(env)
    const readyAt = Date.now()
    await waitFor("job completed", async () => (await job.getState()) === "completed", 30_000, 50)
    // from the moment both the job was dead and a worker was there to take it (start-up is not recovery)
    const recovered = Date.now() - Math.max(killedAt, readyAt)
    const done = await q.getJob(job.id!)
    expect(done?.returnvalue).toEqual({ scans: 50, persisted: 50, deadLettered: 0 })
    // the retry appended nothing: every entry answered with its existing leaf
    const rows = await leaves()
    expect(rows).toHaveLength(50)
    expect(rows.every((r) => r.n === 1)).toBe(true)
    expect(await total()).toBe(before)
    // within lock 3 s + stalled check 1 s of its worker's death
    expect(recovered).toBeLessThanOrEqual(5_000)
    next.child.kill("SIGTERM")
    await next.exited
  })
})
