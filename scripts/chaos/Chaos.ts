/**
 * The chaos run: scans through the gateway (its own process) while two orchestrator processes are killed -9
 * in turns, the queue Redis is restarted, Postgres is restarted and NATS is killed -9 — on private servers
 * this run owns (scripts/chaos/Servers.ts). Afterwards it proves, per accepted scan: one scan_events row,
 * one audit leaf (by its key), one scan.recorded message in the stream; the rebuilt tree equals every signed
 * checkpoint; and it reports each recovery and the leaf latency (scan accepted → leaf appended).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Queue } from "bullmq"
import { Effect, Layer } from "effect"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { migrateUp } from "../../migrations/Migrator.js"
import { verifyIntegrity } from "../../services/compliance/Integrity.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { makeDatabaseLayer } from "../../shared/layers/Database.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { testConfig } from "../../shared/testing/TestDatabase.js"
import { demoTag, randomPortOffset } from "../../shared/testing/TestPlatform.js"
import { loadDemoData } from "../DemoData.js"
import { startNats, startPostgres, startRedis, until } from "./Servers.js"

export interface ChaosOptions {
  /** scans to send (more are sent while faults are still being injected) */
  readonly scans: number
  /** scans per second the client offers */
  readonly rate: number
  /** orchestrator kill -9s (at least 5) */
  readonly kills: number
  readonly log?: (line: string) => void
}

export interface Recovery {
  readonly fault: string
  readonly kind: "worker" | "dependency"
  readonly ms: number
  /** a worker kill's last job to come back: when its lock went, it started again and finished (ms after the kill) */
  readonly slowest?: string
}

export interface ChaosReport {
  readonly sent: number
  readonly accepted: number
  readonly refused: Readonly<Record<string, number>>
  readonly persisted: number
  readonly missingRows: number
  readonly auditLeaves: number
  readonly missingLeaves: number
  readonly extraLeaves: number
  readonly messages: number
  readonly missingMessages: number
  readonly duplicatedMessages: number
  /** repeats of a scan's message stored less than the duplicate window (2 min) apart: a fault */
  readonly repeatsWithinWindow: number
  /** repeats stored further apart (a job retried past the window republishes: the stated rule) */
  readonly repeatsPastWindow: number
  /** dead letters by task */
  readonly deadLetters: Readonly<Record<string, number>>
  readonly checkpoints: number
  readonly integrityOk: boolean
  readonly checkpointMismatches: number
  readonly recoveries: ReadonlyArray<Recovery>
  /** kill -9 of an orchestrator → every job it held taken by the other (or finished) */
  readonly maxWorkerRecoveryMs: number
  /** dependency back → rows, leaves and messages all moving again (includes the jobs' retry backoff) */
  readonly maxDependencyRecoveryMs: number
  readonly leafLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly seconds: number
}

const STREAM_PREFIX = "CHAOS"
const QUEUE_PREFIX = "chaos"
/** the orchestrators run with QUEUE_LOCK_DURATION_MS at its default (shared/config/ServiceSettings.ts) */
const LOCK_MS = 2_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const randomOffset = randomPortOffset

export const runChaos = async (o: ChaosOptions): Promise<ChaosReport> => {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`))
  const t0 = Date.now()
  const cleanups: Array<() => Promise<unknown>> = []
  try {
    // ---- private servers --------------------------------------------------------------------------
    const postgres = await startPostgres()
    cleanups.push(postgres.stop)
    // the queue Redis as deploy/redis/redis-queue.conf runs it: AOF fsynced every second, never evicting
    const queueRedis = await startRedis([
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction"
    ])
    cleanups.push(queueRedis.stop)
    const cacheRedis = await startRedis(["--appendonly", "no", "--save", "", "--maxmemory-policy", "allkeys-lru"])
    cleanups.push(cacheRedis.stop)
    const nats = await startNats()
    cleanups.push(nats.stop)
    const admin = new pg.Client({ connectionString: postgres.url("postgres") })
    await admin.connect()
    await admin.query("CREATE DATABASE brandme")
    await admin.end()
    const dbUrl = postgres.url("brandme")
    const dbLayer = makeDatabaseLayer({
      url: dbUrl,
      poolMax: 2,
      idleTimeoutMs: 1000,
      connectTimeoutMs: 5000,
      ssl: "disable",
      applicationName: "chaos"
    })
    const env: Record<string, string> = {
      DATABASE_URL: dbUrl,
      REDIS_URL: cacheRedis.url,
      REDIS_QUEUE_URL: queueRedis.url,
      NATS_URL: nats.url,
      NATS_STREAM_PREFIX: STREAM_PREFIX,
      QUEUE_PREFIX,
      REDIS_KEY_PREFIX: "chaos:",
      HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      RATE_LIMIT_PER_IP: "100000000/60",
      RATE_LIMIT_PER_CLIENT: "100000000/60",
      // many signed checkpoints during the run, each to be matched by the rebuilt tree
      BEAT_CHECKPOINT_EVERY_MS: "2000"
    }
    await Effect.runPromise(
      Effect.zipRight(migrateUp(), loadDemoData).pipe(
        Effect.provide(Layer.merge(dbLayer, Layer.succeed(AppConfig, testConfig(env))))
      )
    )
    log(`chaos: servers up and database migrated in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    // ---- platform processes -------------------------------------------------------------------------
    // a random port offset may meet a port in use on a shared machine: another offset, up to three times
    const startProcess = async (name: string, service: string, port: number) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await startProcessAt(name, service, port, randomOffset())
        } catch (e) {
          if (attempt >= 3) throw e
        }
      }
    }
    const startProcessAt = async (name: string, service: string, port: number, offset: number) => {
      const child = spawn(process.execPath, ["--import", "tsx", "services/main.ts"], {
        env: { ...process.env, ...env, SERVICE: service, PORT_OFFSET: String(offset) },
        stdio: ["ignore", "ignore", "pipe"]
      })
      let err = ""
      child.stderr?.on("data", (d: Buffer) => {
        err = (err + d.toString()).slice(-4000)
      })
      const url = `http://127.0.0.1:${port + offset}`
      await until(
        `${name} ready`,
        async () => child.exitCode !== null || (await fetch(`${url}/health/ready`)).status === 200,
        120_000,
        100
      )
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${err}`)
      return { child, url }
    }
    const gateway = await startProcess("gateway", "gateway,brain,policy,knowledge", Services.gateway.port)
    cleanups.push(async () => gateway.child.kill("SIGKILL"))
    interface Orchestrator {
      readonly name: string
      proc: { readonly child: ChildProcess; readonly url: string } | undefined
      starting: Promise<void> | undefined
    }
    const orchestrators: Array<Orchestrator> = ["a", "b"].map((n) => ({
      name: `orchestrator-${n}`,
      proc: undefined,
      starting: undefined
    }))
    const boot = (orc: Orchestrator) => {
      orc.starting = startProcess(orc.name, "orchestrator", Services.orchestrator.port).then((p) => {
        orc.proc = p
        orc.starting = undefined
      })
      return orc.starting
    }
    cleanups.push(async () => {
      for (const orc of orchestrators) orc.proc?.child.kill("SIGKILL")
    })
    await Promise.all(orchestrators.map(boot))
    log(`chaos: gateway and two orchestrators ready at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    // ---- observers (they reconnect across the faults) -------------------------------------------------
    const pool = new pg.Pool({ connectionString: dbUrl, max: 2 })
    pool.on("error", () => undefined)
    cleanups.push(() => pool.end())
    const count = async (q: string) => Number((await pool.query(q)).rows[0].n)
    const redis = new IORedis(queueRedis.url, { maxRetriesPerRequest: null })
    redis.on("error", () => undefined)
    cleanups.push(async () => redis.disconnect())
    const queues = ["scans", "audit", "notifications"].map(
      (name) => new Queue(name, { connection: redis, prefix: QUEUE_PREFIX })
    )
    for (const q of queues) q.on("error", () => undefined)
    const [scansQ] = queues
    cleanups.push(() => Promise.all(queues.map((q) => q.close())))
    const streamMessages = async () => {
      const nc = await connect({ servers: nats.url, reconnect: false })
      try {
        const jsm = await jetstreamManager(nc)
        return (await jsm.streams.info(`${STREAM_PREFIX}_SCANS`)).state.messages
      } finally {
        await nc.close()
      }
    }

    // ---- load ---------------------------------------------------------------------------------------
    const accepted: Array<string> = []
    const refused: Record<string, number> = {}
    let sent = 0
    let faultsDone = false
    const loadStart = Date.now()
    const client = async () => {
      for (;;) {
        if (sent >= o.scans && faultsDone) return
        const i = sent++
        const due = loadStart + (i * 1000) / o.rate
        if (due > Date.now()) await sleep(due - Date.now())
        try {
          const res = await fetch(`${gateway.url}/v1/scans`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tag: demoTag(i), context: { region: ["FR", "US", "DE", "JP"][i % 4] } })
          })
          const body: unknown = await res.json().catch(() => undefined)
          if (res.status === 200 && typeof body === "object" && body !== null && "scanId" in body)
            accepted.push(String(body.scanId))
          else refused[String(res.status)] = (refused[String(res.status)] ?? 0) + 1
        } catch {
          refused.network = (refused.network ?? 0) + 1
        }
      }
    }
    const load = Promise.all(Array.from({ length: 16 }, client))

    // ---- faults -------------------------------------------------------------------------------------
    const recoveries: Array<Recovery> = []
    /** until the pipeline moves again end to end: more rows, more leaves and more stream messages than at `t` */
    const progressAfter = async (fault: string) => {
      const t = Date.now()
      const rows = await count("SELECT count(*) AS n FROM scan_events").catch(() => -1)
      const leaves = await count("SELECT count(*) AS n FROM audit_leaves").catch(() => -1)
      const msgs = await streamMessages().catch(() => -1)
      let moved = { rows: false, leaves: false, msgs: false }
      const ok = await until(
        `${fault}: progress`,
        async () => {
          moved = {
            rows: moved.rows || (await count("SELECT count(*) AS n FROM scan_events")) > rows,
            leaves: moved.leaves || (await count("SELECT count(*) AS n FROM audit_leaves")) > leaves,
            msgs: moved.msgs || (await streamMessages()) > msgs
          }
          return moved.rows && moved.leaves && moved.msgs
        },
        60_000
      ).then(
        () => true,
        () => false
      )
      if (!ok)
        log(`chaos: ${fault}: no progress within 60 s (moved: ${JSON.stringify(moved)}, accepted ${accepted.length})`)
      recoveries.push({ fault, kind: "dependency", ms: Date.now() - t })
    }
    const jobKey = (queue: string, id: string) => `${QUEUE_PREFIX}:${queue}:${id}`
    const killOrchestrator = async (n: number) => {
      // a survivor must be up to take the victim's jobs
      await Promise.all(orchestrators.map((x) => x.starting))
      const victim = orchestrators[Math.floor(Math.random() * orchestrators.length)]!
      // mid-batch: when the scans worker holds jobs (this is the common case under load)
      await until("active scan jobs", async () => (await scansQ!.getActiveCount()) > 0, 3000, 5).catch(() => undefined)
      const killedAt = Date.now()
      victim.proc?.child.kill("SIGKILL")
      const held = (
        await Promise.all(
          queues.map(async (q) => (await q.getActive(0, -1)).map((j) => ({ queue: q.name, id: j.id! })))
        )
      ).flat()
      // each job's lock token (`<worker id>:<n>`) at the kill: a job the survivor holds keeps its lock (renewed),
      // a job the dead worker held loses it within the lock duration — only those are the dead worker's to recover
      const tokens = await Promise.all(held.map((h) => redis.get(`${jobKey(h.queue, h.id)}:lock`)))
      victim.proc = undefined
      // each held job's timeline after the kill (ms): its lock gone, back in the queue, started again, finished —
      // the last one back is reported with the recovery, so a slow one shows which step waited
      const lockGone: Array<number | undefined> = held.map(() => undefined)
      const back: Array<number | undefined> = held.map(() => undefined)
      // the longest gap between two looks (every 50 ms): a machine that stalls this run stalls its workers too
      let lookedAt = killedAt
      let longestGap = 0
      const last: Array<readonly [string | null, string | null]> = held.map(() => [null, null])
      // recovered when every job the dead worker held is back: out of the active list (the stalled check gave it
      // back to the queue, for any live worker to take), started again after the kill, finished, or gone. When a
      // live worker starts it depends on that worker's free capacity (a backlog waits its turn: the leaf latency
      // measures that), not on the dead worker, so it is reported, not held to the bound
      await until(
        `kill ${n}: ${held.length} jobs picked up`,
        async () => {
          const states = await Promise.all(
            held.map((h) => redis.hmget(jobKey(h.queue, h.id), "processedOn", "finishedOn"))
          )
          const locks = await Promise.all(held.map((h) => redis.get(`${jobKey(h.queue, h.id)}:lock`)))
          const inActive = await Promise.all(held.map((h) => redis.lpos(`${QUEUE_PREFIX}:${h.queue}:active`, h.id)))
          const now = Date.now()
          longestGap = Math.max(longestGap, now - lookedAt)
          lookedAt = now
          const pastLocks = now - killedAt > LOCK_MS + 1000
          states.forEach(([p, f], i) => {
            if (locks[i] === null && lockGone[i] === undefined) lockGone[i] = now - killedAt
            last[i] = [p ?? null, f ?? null]
            const isBack =
              (p === null && f === null) ||
              f !== null ||
              Number(p) > killedAt ||
              inActive[i] === null ||
              // still locked by its token past the dead worker's lock duration: a live worker's job, not the victim's
              (pastLocks && tokens[i] !== null && locks[i] === tokens[i])
            if (isBack && back[i] === undefined) back[i] = now - killedAt
          })
          return back.every((b) => b !== undefined)
        },
        60_000,
        50
      )
      const after = (v: string | null) => (v === null ? "-" : `+${Number(v) - killedAt}`)
      const slowest = held
        .map((h, i) => ({ h, i }))
        .sort((a, b) => (back[b.i] ?? Number.POSITIVE_INFINITY) - (back[a.i] ?? Number.POSITIVE_INFINITY))[0]
      recoveries.push({
        fault: `kill -9 ${victim.name} (${held.length} jobs active)`,
        kind: "worker",
        ms: Date.now() - killedAt,
        ...(slowest === undefined
          ? {}
          : {
              slowest: `${slowest.h.queue}:${slowest.h.id} lock gone ${lockGone[slowest.i] === undefined ? "-" : `+${lockGone[slowest.i]}`}, back +${back[slowest.i]}, started ${after(last[slowest.i]![0])}, finished ${after(last[slowest.i]![1])} ms; longest gap between looks ${longestGap} ms`
            })
      })
      void boot(victim)
    }
    const span = (o.scans / o.rate) * 1000
    const at = (fraction: number) => sleep(Math.max(0, loadStart + span * fraction - Date.now()))
    const faults = async () => {
      const killAt = Array.from({ length: o.kills }, () => 0.05 + Math.random() * 0.85).sort()
      const deps: Array<[number, string, () => Promise<void>]> = [
        [0.3, "queue Redis restart", queueRedis.restart],
        [0.55, "Postgres restart", postgres.restart],
        [0.8, "NATS kill -9", nats.killAndRestart]
      ]
      const plan: Array<[number, () => Promise<void>]> = [
        ...killAt.map((f, i): [number, () => Promise<void>] => [f, () => killOrchestrator(i + 1)]),
        ...deps.map(([f, name, act]): [number, () => Promise<void>] => [
          f,
          async () => {
            await act()
            await progressAfter(name)
          }
        ])
      ].sort((a, b) => a[0] - b[0])
      for (const [f, act] of plan) {
        await at(f)
        await act()
        log(`chaos: ${recoveries.at(-1)?.fault} → recovered in ${recoveries.at(-1)?.ms} ms`)
      }
    }
    try {
      await faults()
    } finally {
      faultsDone = true
    }
    await load
    await Promise.all(orchestrators.map((x) => x.starting))
    log(`chaos: load done: ${sent} sent, ${accepted.length} accepted at ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    // ---- drain --------------------------------------------------------------------------------------
    const ids = accepted
    const keys = ids.map((id) => `scan-${id}`)
    const rowsOf = () => count(`SELECT count(*) AS n FROM scan_events WHERE id = ANY('{${ids.join(",")}}'::uuid[])`)
    const leavesOf = async () =>
      Number(
        (await pool.query("SELECT count(*) AS n FROM audit_leaves WHERE idempotency_key = ANY($1)", [keys])).rows[0].n
      )
    await until(
      "every accepted scan persisted and audited",
      async () => {
        const c = await scansQ!.getJobCounts("waiting", "active", "delayed", "prioritized")
        return (
          Object.values(c).every((n) => n === 0) && (await rowsOf()) >= ids.length && (await leavesOf()) >= ids.length
        )
      },
      Math.max(120_000, ids.length * 2),
      250
    ).catch((e: unknown) => log(`chaos: ${e instanceof Error ? e.message : String(e)}`))
    // the beat signs a checkpoint at the final size within BEAT_CHECKPOINT_EVERY_MS
    const treeSize = await count("SELECT tree_size AS n FROM audit_tree_state")
    await until(
      "a checkpoint at the final tree size",
      async () => (await count("SELECT coalesce(max(tree_size), 0) AS n FROM audit_checkpoints")) >= treeSize,
      30_000,
      250
    ).catch(() => log("chaos: no checkpoint at the final size"))

    // ---- proof --------------------------------------------------------------------------------------
    const persisted = await rowsOf()
    const auditLeaves = await leavesOf()
    const scanLeaves = await count("SELECT count(*) AS n FROM audit_leaves WHERE kind = 'scan.recorded'")
    const allRows = await count("SELECT count(*) AS n FROM scan_events")
    const perScan = new Map<string, number>()
    // a repeat is a fault only inside the stream's duplicate window; past it the stated rule is a republish
    // under the same Nats-Msg-Id (docs/orchestrator.md)
    const firstSeen = new Map<string, number>()
    let repeatsWithinWindow = 0
    let repeatsPastWindow = 0
    const windowMs = 120_000
    {
      const nc = await connect({ servers: nats.url })
      const total = await streamMessages()
      const consumer = await jetstream(nc).consumers.get(`${STREAM_PREFIX}_SCANS`)
      let seen = 0
      while (seen < total) {
        const batch = await consumer.fetch({ max_messages: Math.min(10_000, total - seen), expires: 5000 })
        for await (const m of batch) {
          const id = m.headers?.get("Nats-Msg-Id") ?? ""
          perScan.set(id, (perScan.get(id) ?? 0) + 1)
          const at = m.info.timestampNanos / 1e6
          const first = firstSeen.get(id)
          if (first === undefined) firstSeen.set(id, at)
          else if (at - first < windowMs) repeatsWithinWindow++
          else repeatsPastWindow++
          seen++
        }
      }
      await nc.close()
    }
    const messages = ids.reduce((n, id) => n + (perScan.get(id) ?? 0), 0)
    const missingMessages = ids.filter((id) => !perScan.has(id)).length
    const duplicatedMessages = [...perScan.values()].reduce((n, c) => n + c - 1, 0)
    const report = await Effect.runPromise(verifyIntegrity().pipe(Effect.provide(dbLayer)))
    const checkpoints = await count("SELECT count(*) AS n FROM audit_checkpoints")
    const latency = (
      await pool.query(`SELECT
        coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 0) AS p50,
        coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), 0) AS p99, coalesce(max(ms), 0) AS max
        FROM (SELECT extract(epoch FROM appended_at - recorded_at) * 1000 AS ms
              FROM audit_leaves WHERE kind = 'scan.recorded') x`)
    ).rows[0]
    const dlq = new Queue("dead-letter", { connection: redis, prefix: QUEUE_PREFIX })
    const deadLetters: Record<string, number> = {}
    for (const j of await dlq.getJobs(["waiting", "delayed", "prioritized", "completed", "failed"])) {
      const task = typeof j.data === "object" && j.data !== null && "name" in j.data ? String(j.data.name) : j.name
      deadLetters[task] = (deadLetters[task] ?? 0) + 1
    }
    await dlq.close()
    return {
      sent,
      accepted: ids.length,
      refused,
      persisted,
      missingRows: ids.length - persisted,
      auditLeaves,
      missingLeaves: ids.length - auditLeaves,
      // leaves of scans nobody was told were accepted, or twice: scan leaves beyond the rows
      extraLeaves: scanLeaves - allRows,
      messages,
      missingMessages,
      duplicatedMessages,
      repeatsWithinWindow,
      repeatsPastWindow,
      deadLetters,
      checkpoints,
      integrityOk: report.ok,
      checkpointMismatches: report.checkpointMismatches.length,
      recoveries,
      maxWorkerRecoveryMs: Math.max(0, ...recoveries.filter((r) => r.kind === "worker").map((r) => r.ms)),
      maxDependencyRecoveryMs: Math.max(0, ...recoveries.filter((r) => r.kind === "dependency").map((r) => r.ms)),
      leafLatencyMs: { p50: Math.round(latency.p50), p99: Math.round(latency.p99), max: Math.round(latency.max) },
      seconds: (Date.now() - t0) / 1000
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined)
  }
}

export const formatReport = (r: ChaosReport): string =>
  [
    `sent=${r.sent} accepted=${r.accepted} refused=${JSON.stringify(r.refused)}`,
    `persisted=${r.persisted} missing_rows=${r.missingRows}`,
    `audit_leaves=${r.auditLeaves} missing_leaves=${r.missingLeaves} extra_leaves=${r.extraLeaves}`,
    `messages=${r.messages} missing_messages=${r.missingMessages} duplicated=${r.duplicatedMessages} (within the 2 min window ${r.repeatsWithinWindow}, past it ${r.repeatsPastWindow})`,
    `dead_letters=${JSON.stringify(r.deadLetters)} checkpoints=${r.checkpoints} integrity=${r.integrityOk ? "ok" : "FAILED"} checkpoint_mismatches=${r.checkpointMismatches}`,
    ...r.recoveries.map(
      (x) => `recovery ${x.fault}: ${x.ms} ms${x.slowest === undefined ? "" : ` (slowest ${x.slowest})`}`
    ),
    `max_recovery_ms worker=${r.maxWorkerRecoveryMs} dependency=${r.maxDependencyRecoveryMs}`,
    `leaf_latency_ms p50=${r.leafLatencyMs.p50} p99=${r.leafLatencyMs.p99} max=${r.leafLatencyMs.max}`,
    `seconds=${r.seconds.toFixed(1)}`
  ].join("\n")

/** The checks a run must pass (the integration test asserts the same). */
export const failures = (r: ChaosReport): ReadonlyArray<string> => [
  ...(r.missingRows !== 0 ? [`${r.missingRows} accepted scans have no row`] : []),
  ...(r.missingLeaves !== 0 ? [`${r.missingLeaves} accepted scans have no audit leaf`] : []),
  ...(r.extraLeaves !== 0 ? [`${r.extraLeaves} scan leaves more than rows`] : []),
  ...(r.missingMessages !== 0 ? [`${r.missingMessages} accepted scans have no message`] : []),
  ...(r.repeatsWithinWindow !== 0 ? [`${r.repeatsWithinWindow} messages repeated within the duplicate window`] : []),
  ...(!r.integrityOk || r.checkpointMismatches > 0 ? ["the rebuilt tree does not match the signed checkpoints"] : []),
  ...(r.maxWorkerRecoveryMs > 5000 ? [`a dead worker's jobs waited ${r.maxWorkerRecoveryMs} ms (> 5 s)`] : [])
]
