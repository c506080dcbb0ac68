/**
 * bench:audit — the audit log's service paths on a 1,000,000-entry log in a fresh database (dropped at the end).
 *
 * Appends: BENCH_CONCURRENCY concurrent callers of `AuditLog.append` — what the orchestrator's audit task calls:
 * canonical encoding, sealing of personal parties (BENCH_PERSON_EVERY: every n-th entry has a person as actor,
 * so subject keys are created and read), the batcher and the SQL sequencer — until the log holds BENCH_ENTRIES.
 * Then the checkpointer signs the head. After BENCH_WARMUP (1,000) untimed warm-up calls (their p99 is printed),
 * proofs: BENCH_PROOFS (10,000) random `AuditLog.entryView` calls — what
 * `GET /v1/audit/entries/:index` returns (leaf + inclusion proof against the latest checkpoint) — each one
 * verified with the shared verifier after it is timed, plus BENCH_PROOFS/4 verified consistency proofs.
 * Last line: `appends_per_s=<n> proof_p99_ms=<x>` (x: the worse of the inclusion and consistency p99; goals: ≥ 20,000 appends/s, p99 < 2 ms).
 *
 * Finally the integrity job streams the whole log (BENCH_INTEGRITY=false skips it) and its heap peak is shown.
 *
 * Env: DATABASE_URL (server to create the bench database on; default local postgres), BENCH_ENTRIES,
 * BENCH_CONCURRENCY, BENCH_PERSON_EVERY (0 = none), BENCH_PROOFS, BENCH_WARMUP, BENCH_POOL, BENCH_INTEGRITY,
 * BENCH_SETTLE (true: VACUUM (ANALYZE) the two tables, CHECKPOINT, a full GC and 2 s of quiet before the proofs
 * are timed; default false).
 */
import { randomBytes } from "node:crypto"
import { PerformanceObserver } from "node:perf_hooks"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Config, Effect, Either, Layer, Option } from "effect"
import pg from "pg"
import { bytesEqual, fromHex } from "../shared/audit/Bytes.js"
import { generateSignerKey, parseSignerKey } from "../shared/audit/CheckpointSigner.js"
import { hashLeaf, verifyConsistencySync, verifyInclusionSync } from "../shared/audit/Merkle.js"
import { newSubjectKey, type Party } from "../shared/audit/SubjectCipher.js"
import { migrateUp } from "../migrations/Migrator.js"
import { AuditLog, auditLogLayer } from "../services/compliance/AuditLog.js"
import type { ConsistencyView, EntryView } from "../services/compliance/AuditViews.js"
import { signCheckpointNow } from "../services/compliance/Checkpointer.js"
import { verifyIntegrity } from "../services/compliance/Integrity.js"
import { subjectKeysLayer } from "../services/compliance/SubjectKeys.js"
import { percentile } from "../shared/testing/Processes.js"
import { pgLayer } from "../services/compliance/testing/AuditTestDb.js"

const settings = Config.all({
  url: Config.string("DATABASE_URL").pipe(Config.withDefault("postgres://postgres@127.0.0.1:5432/postgres")),
  entries: Config.integer("BENCH_ENTRIES").pipe(Config.withDefault(1_000_000)),
  concurrency: Config.integer("BENCH_CONCURRENCY").pipe(Config.withDefault(1_000)),
  personEvery: Config.integer("BENCH_PERSON_EVERY").pipe(Config.withDefault(20)),
  proofs: Config.integer("BENCH_PROOFS").pipe(Config.withDefault(10_000)),
  warmup: Config.integer("BENCH_WARMUP").pipe(Config.withDefault(1_000)),
  pool: Config.integer("BENCH_POOL").pipe(Config.withDefault(10)),
  integrity: Config.boolean("BENCH_INTEGRITY").pipe(Config.withDefault(true)),
  settle: Config.boolean("BENCH_SETTLE").pipe(Config.withDefault(false))
})

const ORIGIN = "brandme.bench/audit"

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const admin = async (url: string, statement: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(statement).finally(() => c.end())
}

/** One number from a one-row, one-column query (diagnostics). */
const admin2 = async (url: string, statement: string): Promise<number> => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const r = await c.query(statement).finally(() => c.end())
  return Number(r.rows[0]?.n ?? Number.NaN)
}

const hex = (s: string) => fromHex(s) ?? new Uint8Array(0)
const person = (n: number): Party => ({
  _tag: "Person",
  subjectId: `00000000-0000-4000-8000-${(n % 1000).toString().padStart(12, "0")}`,
  id: `user:${n % 1000}`
})
const service: Party = { _tag: "Public", id: "service:orchestrator" }

/** The machine's floor: p50/p99 of a prepared `SELECT 1` round trip on a plain pg client, 2,000 times. */
const roundTripFloor = async (url: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const ts: Array<number> = []
  try {
    for (let i = 0; i < 2000; i++) {
      const t = performance.now()
      await c.query({ name: "floor", text: "SELECT 1" })
      ts.push(performance.now() - t)
    }
  } finally {
    await c.end()
  }
  ts.sort((a, b) => a - b)
  return { p50: percentile(ts, 50), p99: percentile(ts, 99) }
}

const bench = (s: Config.Config.Success<typeof settings>, url: string) =>
  Effect.gen(function* () {
    const log = yield* AuditLog
    const digest = new Uint8Array(randomBytes(32))
    let done = 0
    const t0 = performance.now()
    // BENCH_CONCURRENCY callers, each appending its next entry as soon as the previous one is acknowledged.
    let next = 0
    const caller = Effect.whileLoop({
      while: () => next < s.entries,
      body: () => {
        const i = next++
        return log.append({
          kind: "scan.recorded",
          actor: s.personEvery > 0 && i % s.personEvery === 0 ? person(i) : service,
          subject: { _tag: "Public", id: `garment:01/09506000134352/21/S${i}` },
          payloadDigest: digest,
          timeMs: Date.now()
        })
      },
      step: () => {
        if (++done % 100_000 === 0)
          Effect.runSync(Effect.logInfo(`appended ${done} (${Math.round(done / ((performance.now() - t0) / 1000))}/s)`))
      }
    })
    yield* Effect.all(
      Array.from({ length: s.concurrency }, () => caller),
      { concurrency: "unbounded", discard: true }
    )
    const seconds = (performance.now() - t0) / 1000
    const size = yield* log.treeSize
    if (size !== s.entries) return yield* Effect.dieMessage(`tree size ${size}, expected ${s.entries}`)

    const keys = generateSignerKey(ORIGIN)
    const signer = Either.getOrThrow(parseSignerKey(keys.signerKey))
    const tc = performance.now()
    const cp = yield* signCheckpointNow(ORIGIN, signer)
    const checkpointMs = performance.now() - tc
    if (Option.isNone(cp) || cp.value.treeSize !== size) return yield* Effect.dieMessage("no checkpoint at the head")

    // Timed: the service calls only. Every answer is then checked with the shared verifier, after the timing
    // loop, so the verifier's own work (and garbage) does not land in the measured calls.
    // Postgres's own background work on the freshly written tables (autovacuum after a million inserts) shares
    // the machine with the timed calls: count it before and after.
    const vacuums = Effect.promise(() =>
      admin2(url, "SELECT count(*)::int AS n FROM pg_stat_progress_vacuum WHERE datname = current_database()")
    )
    if (s.settle) {
      // BENCH_SETTLE: what a log in steady state has had time to do — vacuum/analyze the new rows, flush them —
      // and what a proof server that did not itself just write a million entries has not got: the appends' GC debt.
      for (const q of ["VACUUM (ANALYZE) audit_leaves, audit_nodes", "CHECKPOINT"])
        yield* Effect.promise(() => admin(url, q))
      gc()
      yield* Effect.sleep("2 seconds")
    }
    // Warm-up, untimed in the figures below but reported: the first calls open the proof connections, prepare
    // their statements and fill the node cache — one-time costs a running service pays once, not per proof.
    const warm: Array<number> = []
    for (let i = 0; i < s.warmup; i++) {
      const t = performance.now()
      yield* log.entryView(Math.floor(Math.random() * size))
      yield* log.consistencyView(1 + Math.floor(Math.random() * (size - 1)), size)
      warm.push(performance.now() - t)
    }
    warm.sort((a, b) => a - b)
    if (s.warmup > 0)
      process.stdout.write(
        `warm-up: ${s.warmup} entry + consistency views (untimed below): p50 ${percentile(warm, 50).toFixed(3)} ms, ` +
          `p99 ${percentile(warm, 99).toFixed(3)} ms, first ${(warm.length > 0 ? Math.max(...warm) : 0).toFixed(3)} ms at most\n`
      )
    const vacuumBefore = yield* vacuums
    // GC pauses while the proofs are timed (a scavenge inside a call is what a p99 outlier usually is).
    const gcPauses: Array<number> = []
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration)
    })
    gcObserver.observe({ entryTypes: ["gc"] })
    const latencies: Array<number> = []
    const views: Array<{ readonly index: number; readonly view: EntryView }> = []
    for (let i = 0; i < s.proofs; i++) {
      const index = Math.floor(Math.random() * size)
      const t = performance.now()
      const view = yield* log.entryView(index)
      latencies.push(performance.now() - t)
      views.push({ index, view })
    }
    gcObserver.disconnect()
    const vacuumAfter = yield* vacuums
    for (const { index, view: v } of views) {
      const leafHash = hashLeaf(hex(v.leafData))
      const ok =
        bytesEqual(leafHash, hex(v.leafHash)) &&
        bytesEqual(hex(v.rootHash), cp.value.root) &&
        Either.isRight(verifyInclusionSync(index, v.treeSize, leafHash, v.inclusionProof.map(hex), cp.value.root))
      if (!ok) return yield* Effect.dieMessage(`inclusion proof for ${index} does not verify`)
    }
    const consistency: Array<number> = []
    const consViews: Array<{ readonly from: number; readonly view: ConsistencyView }> = []
    for (let i = 0; i < Math.ceil(s.proofs / 4); i++) {
      const from = 1 + Math.floor(Math.random() * (size - 1))
      const t = performance.now()
      const view = yield* log.consistencyView(from, size)
      consistency.push(performance.now() - t)
      consViews.push({ from, view })
    }
    for (const { from, view: c } of consViews) {
      const ok =
        bytesEqual(hex(c.toRoot), cp.value.root) &&
        Either.isRight(verifyConsistencySync(from, size, hex(c.fromRoot), cp.value.root, c.proof.map(hex)))
      if (!ok) return yield* Effect.dieMessage(`consistency proof ${from}→${size} does not verify`)
    }
    latencies.sort((a, b) => a - b)
    consistency.sort((a, b) => a - b)
    const floor = yield* Effect.promise(() => roundTripFloor(url))

    // Heap allocated per call (what feeds the scavenges behind the tail): 50 calls between two heap readings,
    // right after a full GC (gc() is reached through V8's flag even without --expose-gc on the command line).
    const allocPerCall = (call: (i: number) => Effect.Effect<unknown, unknown>) =>
      Effect.gen(function* () {
        gc()
        const before = process.memoryUsage().heapUsed
        for (let i = 0; i < 50; i++) yield* Effect.either(call(i))
        return (process.memoryUsage().heapUsed - before) / 50
      })
    const entryBytes = yield* allocPerCall(() => log.entryView(Math.floor(Math.random() * size)))
    const consBytes = yield* allocPerCall(() => log.consistencyView(1 + Math.floor(Math.random() * (size - 1)), size))

    // The integrity job over the whole log, streaming; heap sampled while it runs.
    const heapBefore = process.memoryUsage().heapUsed
    let heapPeak = heapBefore
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    }, 50)
    const ti = performance.now()
    const integrity = s.integrity ? yield* verifyIntegrity({ recordFindings: false }) : undefined
    const integritySeconds = (performance.now() - ti) / 1000
    clearInterval(sampler)
    if (integrity !== undefined && !integrity.ok)
      return yield* Effect.dieMessage(`integrity check failed on an untouched log: ${JSON.stringify(integrity.counts)}`)
    return {
      integrity:
        integrity === undefined
          ? undefined
          : {
              rows: integrity.leafRows,
              seconds: integritySeconds,
              heapBeforeMb: heapBefore / 2 ** 20,
              heapPeakMb: heapPeak / 2 ** 20
            },
      appendsPerS: s.entries / seconds,
      seconds,
      checkpointMs,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
      cp50: percentile(consistency, 50),
      cp99: percentile(consistency, 99),
      entryBytes,
      consBytes,
      floor,
      vacuumBefore,
      vacuumAfter,
      p90: percentile(latencies, 90),
      p95: percentile(latencies, 95),
      gcCount: gcPauses.length,
      gcTotal: gcPauses.reduce((a, b) => a + b, 0),
      gcMax: Math.max(0, ...gcPauses)
    }
  })

const main = Effect.gen(function* () {
  const s = yield* settings
  const name = `brandme_bench_${randomBytes(5).toString("hex")}`
  const url = s.url.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`)
  yield* Effect.promise(() => admin(s.url, `CREATE DATABASE ${name}`))
  const dropDb = Effect.promise(() => admin(s.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const run = Effect.gen(function* () {
    yield* migrateUp().pipe(Effect.provide(pgLayer(url, 1)))
    const sql = pgLayer(url, s.pool)
    const layer = auditLogLayer().pipe(
      Layer.provide(subjectKeysLayer(newSubjectKey()).pipe(Layer.provide(sql))),
      Layer.provideMerge(sql)
    )
    const r = yield* Effect.scoped(bench(s, url).pipe(Effect.provide(layer)))
    const out = (line: string) => process.stdout.write(`${line}\n`)
    out(
      `entries=${s.entries} concurrency=${s.concurrency} person_every=${s.personEvery} seconds=${r.seconds.toFixed(1)}`
    )
    out(`appends/s (AuditLog.append, batcher + sequencer): ${Math.round(r.appendsPerS)}`)
    out(`checkpoint signed at the head in ${r.checkpointMs.toFixed(1)} ms`)
    out(
      `entryView (leaf + inclusion proof) over ${s.proofs} random indices, all verified: ` +
        `p50 ${r.p50.toFixed(3)} ms, p90 ${r.p90.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(3)} ms, ` +
        `~${(r.entryBytes / 1024).toFixed(1)} KB heap per call; GC meanwhile: ${r.gcCount} pauses, ` +
        `${r.gcTotal.toFixed(1)} ms in all, longest ${r.gcMax.toFixed(1)} ms`
    )
    out(
      `consistencyView, all verified: p50 ${r.cp50.toFixed(3)} ms, p99 ${r.cp99.toFixed(3)} ms, ` +
        `~${(r.consBytes / 1024).toFixed(1)} KB heap per call`
    )
    out(`vacuums running on the bench database: ${r.vacuumBefore} when the proofs started, ${r.vacuumAfter} after`)
    out(
      `round-trip floor (prepared SELECT 1, plain pg client): p50 ${r.floor.p50.toFixed(3)} ms, p99 ${r.floor.p99.toFixed(3)} ms`
    )
    if (r.integrity !== undefined)
      out(
        `integrity job (streaming): ${r.integrity.rows} rows verified in ${r.integrity.seconds.toFixed(1)} s, ` +
          `heap ${r.integrity.heapBeforeMb.toFixed(0)} MB before, peak ${r.integrity.heapPeakMb.toFixed(0)} MB while it ran`
      )
    // the worse of the two proof kinds' p99
    out(`appends_per_s=${Math.round(r.appendsPerS)} proof_p99_ms=${Math.max(r.p99, r.cp99).toFixed(3)}`)
  })
  yield* run.pipe(Effect.ensuring(dropDb))
})

Effect.runPromise(main).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${String(e)}\n`)
    process.exit(1)
  }
)
