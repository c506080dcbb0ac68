/**
 * bench:audit — builds a 1,000,000-entry audit log in a fresh database through the bulk append path, then
 * times ≥ 1,000 random inclusion proofs served from the stored subtree hashes. Drops the database at the end.
 * Last line: `appends_per_s=<n> proof_p99_ms=<x>` (goals: ≥ 20,000 appends/s, p99 < 2 ms).
 *
 * Env: DATABASE_URL (server to create the bench database on; default local postgres), BENCH_ENTRIES,
 * BENCH_BATCH, BENCH_PROOFS.
 */
import { randomBytes } from "node:crypto"
import { Config, Effect, Either, Layer, Option } from "effect"
import pg from "pg"
import { encodeLeaf } from "../shared/audit/AuditEntry.js"
import { hashLeaf, verifyInclusionSync } from "../shared/audit/Merkle.js"
import { newSubjectKey } from "../shared/audit/SubjectCipher.js"
import { migrateUp } from "../migrations/Migrator.js"
import { AuditLog, auditLogLayer } from "../services/compliance/AuditLog.js"
import * as Repo from "../services/compliance/AuditRepo.js"
import { subjectKeysLayer } from "../services/compliance/SubjectKeys.js"
import { pgLayer } from "../services/compliance/testing/AuditTestDb.js"

const settings = Config.all({
  url: Config.string("DATABASE_URL").pipe(Config.withDefault("postgres://postgres@127.0.0.1:5432/postgres")),
  entries: Config.integer("BENCH_ENTRIES").pipe(Config.withDefault(1_000_000)),
  batch: Config.integer("BENCH_BATCH").pipe(Config.withDefault(10_000)),
  proofs: Config.integer("BENCH_PROOFS").pipe(Config.withDefault(2_000))
})

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

const admin = async (url: string, statement: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  await c.query(statement).finally(() => c.end())
}

const bench = (entries: number, batch: number, proofs: number) =>
  Effect.gen(function* () {
    const log = yield* AuditLog
    const digest = new Uint8Array(randomBytes(32))
    const t0 = performance.now()
    for (let start = 0; start < entries; start += batch) {
      const n = Math.min(batch, entries - start)
      const leaves = Array.from({ length: n }, (_, i) => {
        const timeMs = Date.now()
        const leaf = Either.getOrThrow(
          encodeLeaf({
            kind: "scan.recorded",
            actor: { _tag: "Public", id: "service:orchestrator" },
            subject: { _tag: "Public", id: `garment:01/09506000134352/21/S${start + i}` },
            payloadDigest: digest,
            timeMs
          })
        )
        return { kind: "scan.recorded", leaf, recordedAt: new Date(timeMs) }
      })
      yield* log.appendLeaves(leaves)
      if ((start / batch) % 10 === 9) yield* Effect.logInfo(`appended ${start + n}`)
    }
    const seconds = (performance.now() - t0) / 1000
    const size = yield* log.treeSize
    if (size !== entries) return yield* Effect.dieMessage(`tree size ${size}, expected ${entries}`)
    const root = yield* log.root(size)

    const latencies: Array<number> = []
    for (let i = 0; i < proofs; i++) {
      const index = Math.floor(Math.random() * size)
      const t = performance.now()
      const p = yield* log.inclusionProof(index, size)
      latencies.push(performance.now() - t)
      // Check a sample so the numbers are for correct proofs (outside the timed section).
      if (i % 50 === 0) {
        const row = yield* Repo.leafAt(index)
        const leafHash = Option.isSome(row) ? hashLeaf(row.value.leaf_bytes) : new Uint8Array(32)
        if (Either.isLeft(verifyInclusionSync(index, size, leafHash, p.proof, root)))
          return yield* Effect.dieMessage(`inclusion proof for ${index} does not verify`)
      }
    }
    latencies.sort((a, b) => a - b)
    return { appendsPerS: entries / seconds, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
  })

const main = Effect.gen(function* () {
  const s = yield* settings
  const name = `brandme_bench_${randomBytes(5).toString("hex")}`
  const url = s.url.replace(/\/[^/?]*(\?.*)?$/, `/${name}$1`)
  yield* Effect.promise(() => admin(s.url, `CREATE DATABASE ${name}`))
  const dropDb = Effect.promise(() => admin(s.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const run = Effect.gen(function* () {
    yield* migrateUp().pipe(Effect.provide(pgLayer(url, 1)))
    const layer = auditLogLayer().pipe(
      Layer.provide(subjectKeysLayer(newSubjectKey())),
      Layer.provideMerge(pgLayer(url, 4))
    )
    const r = yield* Effect.scoped(bench(s.entries, s.batch, s.proofs).pipe(Effect.provide(layer)))
    process.stdout.write(`entries=${s.entries} batch=${s.batch} seconds=${r.seconds.toFixed(1)}\n`)
    process.stdout.write(`appends/s: ${Math.round(r.appendsPerS)}\n`)
    process.stdout.write(
      `inclusion proof latency over ${s.proofs} random proofs: p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms\n`
    )
    process.stdout.write(`appends_per_s=${Math.round(r.appendsPerS)} proof_p99_ms=${r.p99.toFixed(3)}\n`)
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
