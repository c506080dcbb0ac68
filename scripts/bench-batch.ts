/**
 * bench:batch — knowledge's side of a cold scan's internal calls, run together (each operation's bulk form:
 * `Knowledge`'s `plain.resolveMany`, `plain.viewMany`) against call by call (each call its own fiber and its own round trips and
 * queries, as the single-call endpoints run), in the same run, on the same data. (Until the evening of 6 December
 * 2026 `/internal/batch` ran call by call with Effect's request batching merging the calls' queries: measured
 * against that, together cost 0.345–0.362 of the CPU a call at 4 calls a batch; docs/scan-bench.md.)
 *
 * The database is a copy of bench:scan's catalogue (1,000,000 garments of 50 brands, `scripts/bench/Catalog.ts`;
 * seeded the first time, 40–80 s). Calls are what a cold scan sends knowledge: 62 % `resolve` of a tag with the
 * groups of an anonymous scan (the view comes with an ownerless garment), 38 % `view` of an owned garment with the
 * groups an owner sees (its history and identity) — each of a garment no call of the run asked about before, so
 * every call is cold (nothing cached). Both handlers are `serveBatch` over the same Knowledge service, called
 * in-process (no HTTP: only the calls' own work is measured), BENCH_WORKERS (2) batches at a time, BENCH_BATCHES
 * (600) batches of each size in BENCH_SIZES (4,16: a saturated cold round's batches carry ~4 calls) per mode per
 * round, the modes alternating for BENCH_ROUNDS (3) rounds so a noisy machine slows both alike.
 *
 * Prints per size and mode the CPU per call (this process: knowledge and the driver, which is small) and of
 * Postgres and Redis (from /proc; Redis is shared: others' work counts too), wall time per call and failed calls
 * (none: every garment exists; a failure fails the run); last line `batch_cpu_ratio=<together / one by one, CPU
 * per call at the first size>` (lower is better).
 */
import { readdirSync, readFileSync } from "node:fs"
import { Effect, Layer, ManagedRuntime, Redacted, Schema } from "effect"
import pg from "pg"
import { KnowledgeInternalApi } from "../services/knowledge/Api.js"
import { bulkOperations, internalOperations } from "../services/knowledge/Http.js"
import { Knowledge } from "../services/knowledge/Knowledge.js"
import { AppConfig } from "../shared/config/AppConfig.js"
import type { FacetGroup } from "../shared/domain/Scan.js"
import { BatchRequest, serveBatch } from "../shared/http/Batch.js"
import { makeDatabaseLayer } from "../shared/layers/Database.js"
import { RedisLive } from "../shared/layers/Redis.js"
import { createTestDatabase, testConfig, uniqueId } from "../shared/testing/TestDatabase.js"
import { deleteRedisPrefix } from "../shared/testing/TestRedis.js"
import { catalogInto } from "./bench/Catalog.js"
import { cpuMillis } from "./bench/Measure.js"

const int = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: must be a positive integer, got "${process.env[name]}"`)
  return v
}
const workers = int("BENCH_WORKERS", 2)
const batches = int("BENCH_BATCHES", 600)
const rounds = int("BENCH_ROUNDS", 3)
const sizes = (process.env.BENCH_SIZES ?? "4,16").split(",").map((s) => {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1 || n > 128) throw new Error(`BENCH_SIZES: "${s}" is not a batch size of 1-128`)
  return n
})

/** the groups an anonymous scan's decision allows (its resolve brings their view) and those an owner sees */
const PUBLIC: ReadonlyArray<FacetGroup> = ["materials", "origin", "care", "certifications", "ownership_history"]
const OWNER: ReadonlyArray<FacetGroup> = [...PUBLIC, "supply_chain", "owner_identity"]

/** CPU seconds of every process whose command line matches (Postgres' backends, Redis), from /proc */
const cpuOf = (match: RegExp): number => {
  let ms = 0
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (match.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"))) ms += cpuMillis(Number(pid))
    } catch {
      // a process that ended meanwhile
    }
  }
  return ms / 1000
}
const pgCpu = () => cpuOf(/^postgres/)
const redisCpu = () => cpuOf(/redis-server/)

const main = async () => {
  const db = await createTestDatabase("benchbatch", false)
  const keyPrefix = `${uniqueId("benchbatch")}:`
  const config = testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: keyPrefix, LOG_LEVEL: "error" })
  try {
    const catalog = await catalogInto(db.url, Redacted.value(config.privacy.piiMasterKey), false)
    console.log(`catalogue: ${catalog.source} in ${catalog.seconds.toFixed(1)} s`)
    // garments no call asks about twice: anonymous scans resolve any garment, owners view owned ones
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const need = rounds * sizes.reduce((a, s) => a + s, 0) * batches * 2
    const any = (
      await client.query<{ gtin: string; serial: string }>(
        "SELECT gtin, serial FROM garments TABLESAMPLE SYSTEM (20) WHERE owner_user_id IS NULL LIMIT $1",
        [need]
      )
    ).rows
    const owned = (
      await client.query<{ id: string }>("SELECT id FROM garments WHERE owner_user_id IS NOT NULL LIMIT $1", [need])
    ).rows
    await client.end()
    if (any.length < need * 0.62 || owned.length < need * 0.38) {
      throw new Error(
        `the catalogue holds too few garments for ${need} cold calls: lower BENCH_BATCHES or BENCH_ROUNDS`
      )
    }
    let nextAny = 0
    let nextOwned = 0
    const call = (i: number) =>
      i % 8 < 5
        ? {
            op: "resolve",
            payload: { ref: { _tag: "DigitalLink", ...any[nextAny++]!, batch: null }, view: PUBLIC }
          }
        : { op: "view", payload: { garmentId: owned[nextOwned++]!.id, allowed: OWNER } }
    const decodeBatch = Schema.decodeUnknownSync(BatchRequest)

    const layer = Knowledge.Default.pipe(
      Layer.provide(RedisLive("bench-batch")),
      Layer.provide(
        makeDatabaseLayer({
          url: db.url,
          poolMax: 4,
          idleTimeoutMs: 10_000,
          connectTimeoutMs: 5_000,
          ssl: "disable",
          applicationName: "bench-batch"
        })
      ),
      Layer.provide(Layer.succeed(AppConfig, config))
    )

    const runtime = ManagedRuntime.make(layer)
    try {
      // the batch endpoint's own operations, served without and with their bulk forms
      const modes = await runtime.runPromise(
        Effect.zipWith(internalOperations, bulkOperations, (ops, bulk) => ({
          "one by one": serveBatch("knowledge", KnowledgeInternalApi, ops),
          together: serveBatch("knowledge", KnowledgeInternalApi, ops, bulk)
        }))
      )
      type Mode = keyof typeof modes
      interface Totals {
        calls: number
        cpu: number
        pg: number
        redis: number
        wall: number
        failed: number
      }
      const totals = new Map<string, Totals>()
      const measure = async (mode: Mode, size: number) => {
        const handle = modes[mode]
        const work = Array.from({ length: batches }, () =>
          decodeBatch({ calls: Array.from({ length: size }, (_, i) => call(i)) })
        )
        let failed = 0
        const worker = async () => {
          for (let b = work.shift(); b !== undefined; b = work.shift()) {
            const out = await runtime.runPromise(handle(b))
            failed += out.results.filter((r) => !r.ok).length
          }
        }
        const c0 = process.cpuUsage()
        const p0 = pgCpu()
        const r0 = redisCpu()
        const t0 = performance.now()
        await Promise.all(Array.from({ length: workers }, worker))
        const c = process.cpuUsage(c0)
        const key = `${size}|${mode}`
        const t = totals.get(key) ?? { calls: 0, cpu: 0, pg: 0, redis: 0, wall: 0, failed: 0 }
        t.calls += batches * size
        t.cpu += (c.user + c.system) / 1e6
        t.pg += pgCpu() - p0
        t.redis += redisCpu() - r0
        t.wall += (performance.now() - t0) / 1000
        t.failed += failed
        totals.set(key, t)
      }
      // warm-up: the code paths, connections and JIT, on garments of their own
      for (const mode of Object.keys(modes) as Array<Mode>) await measure(mode, 4)
      totals.clear()
      for (let r = 0; r < rounds; r++) {
        for (const size of sizes) {
          const order: ReadonlyArray<Mode> = r % 2 === 0 ? ["one by one", "together"] : ["together", "one by one"]
          for (const mode of order) await measure(mode, size)
        }
      }
      const us = (s: number, n: number) => `${((s / n) * 1e6).toFixed(0)} µs`
      let first: number | undefined
      for (const size of sizes) {
        const per: Record<string, number> = {}
        for (const mode of Object.keys(modes) as Array<Mode>) {
          const t = totals.get(`${size}|${mode}`)!
          per[mode] = t.cpu / t.calls
          console.log(
            `${size} calls a batch, ${mode.padEnd(10)}: cpu ${us(t.cpu, t.calls)} a call (knowledge), postgres ${us(t.pg, t.calls)}, redis ${us(t.redis, t.calls)}; wall ${us(t.wall, t.calls)} a call; ${t.calls} calls, ${t.failed} failed`
          )
        }
        const ratio = per.together! / per["one by one"]!
        first ??= ratio
        console.log(`${size} calls a batch: together / one by one = ${ratio.toFixed(3)} of the CPU a call`)
      }
      const failed = [...totals.values()].reduce((a, t) => a + t.failed, 0)
      if (failed > 0) throw new Error(`${failed} calls failed: every call names a garment that exists`)
      console.log(`batch_cpu_ratio=${first!.toFixed(3)}`)
    } finally {
      await runtime.dispose()
    }
  } finally {
    await deleteRedisPrefix(keyPrefix)
    await db.drop()
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
