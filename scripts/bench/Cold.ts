/**
 * The cold phase of `npm run bench:scan`: scans of the 1,000,000-garment catalogue (Catalog.ts), drawn
 * Zipf-distributed (s = 1.1) over it, 70 % anonymous and 30 % signed in (brand staff of ten brands,
 * auditors, and owners who scan one of their own garments half the time), against the gateway and
 * against bare node:http doing one indexed SELECT by (gtin, serial) (PgBaseline.ts) with the same keys.
 * Each round draws with a new rank → garment permutation, so it starts with none of its popular garments
 * cached anywhere (gateway, Redis, knowledge); what it finds cached it cached itself.
 */
import { randomUUID } from "node:crypto"
import { rmSync, writeFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { Redacted } from "effect"
import pg from "pg"
import { lookupHash, masterKeyBytes } from "../../shared/crypto/Pii.js"
import { digitalLinkOf, type Harness } from "../../services/gateway/testing/ScanPathHarness.js"
import { autocannonOver, type LoadResult } from "../../shared/testing/Processes.js"
import { TAIL_WINDOW_MS, tailCrowded } from "../../shared/testing/OpenLoop.js"
import { BRANDS, GARMENTS, garmentKey, OWNED_EVERY, OWNERS } from "./Catalog.js"
import { counterSum, histogramQuantile } from "../../shared/testing/Exposition.js"
import {
  combine,
  coreWaitMillis,
  cpuMillis,
  line,
  machineTicks,
  mainThreadMillis,
  median,
  pairedRatios,
  SATURATED_CORE,
  writeCalls
} from "./Measure.js"
import { EVENT_LOOP_SAMPLE_MS } from "../../shared/telemetry/Metrics.js"
import { startPgBaseline } from "./PgBaseline.js"
import { makeZipf, permutation, seededRandom } from "./Zipf.js"

/** the harness's database (the catalogue was copied into it) */
export const dbUrlOf = (h: Harness): string => Redacted.value(h.config.database.url)

export const ZIPF_S = 1.1
/** the share of scans sent with a Bearer token */
export const SIGNED_IN_SHARE = 0.3
const REGIONS = ["FR", "DE", "US-CA", undefined] as const

interface Scanner {
  readonly authorization: string
  /** the catalogue indexes of the garments this scanner owns (owners only) */
  readonly owns: ReadonlyArray<number>
}

/**
 * The signed-in scanners: brand staff of the first ten brands and two auditors (users written here), and
 * twenty owners of the catalogue; each with a live session. Their user ids get rate-limit overrides.
 */
export const makeScanners = async (
  h: Harness
): Promise<{ scanners: ReadonlyArray<Scanner>; userIds: Array<string> }> => {
  const client = new pg.Client({ connectionString: dbUrlOf(h) })
  await client.connect()
  try {
    const master = masterKeyBytes(Redacted.value(h.config.privacy.piiMasterKey))
    const brands = await client.query<{ id: string }>(
      "SELECT id FROM brands WHERE slug LIKE 'bench-brand-%' ORDER BY slug LIMIT 10"
    )
    const staff: Array<{ userId: string; role: "brand" | "auditor"; brandId: string | null }> = []
    for (const b of brands.rows) staff.push({ userId: randomUUID(), role: "brand", brandId: b.id })
    for (let i = 0; i < 2; i++) staff.push({ userId: randomUUID(), role: "auditor", brandId: null })
    for (const s of staff) {
      await client.query("INSERT INTO users (id, email_hash, role, brand_id) VALUES ($1, $2, $3, $4)", [
        s.userId,
        lookupHash(master, `${s.userId}@bench.example`),
        s.role,
        s.brandId
      ])
    }
    const scanners: Array<Scanner> = []
    for (const s of staff) scanners.push({ authorization: `Bearer ${(await h.tokenFor(s)).token}`, owns: [] })
    const userIds = staff.map((s) => s.userId)
    // owner j owns the garments i ≡ 0 (mod OWNED_EVERY) with (i / OWNED_EVERY) mod OWNERS = j
    for (let j = 0; j < 20; j++) {
      const owns: Array<number> = []
      for (let i = j * OWNED_EVERY; i < GARMENTS; i += OWNED_EVERY * OWNERS) owns.push(i)
      const k = garmentKey(owns[0] ?? 0)
      const row = await client.query<{ owner: string }>(
        "SELECT owner_user_id AS owner FROM garments WHERE gtin = $1 AND serial = $2",
        [k.gtin, k.serial]
      )
      const owner = row.rows[0]?.owner
      if (owner === undefined) throw new Error(`catalogue garment ${owns[0]} has no owner`)
      const token = await h.tokenFor({ userId: owner, role: "owner", brandId: null })
      scanners.push({ authorization: `Bearer ${token.token}`, owns })
      userIds.push(owner)
    }
    return { scanners, userIds }
  } finally {
    await client.end()
  }
}

/** `count` scan requests for one round: Zipf over a fresh permutation of the catalogue, the signed-in mix */
export const roundRequests = (scanners: ReadonlyArray<Scanner>, count: number, seed: number) => {
  const random = seededRandom(seed)
  const zipf = makeZipf(GARMENTS, ZIPF_S, random)
  const order = permutation(GARMENTS, random)
  const out: Array<{ body: string; authorization?: string }> = []
  for (let n = 0; n < count; n++) {
    const signedIn = random() < SIGNED_IN_SHARE
    const scanner = signedIn ? scanners[Math.floor(random() * scanners.length)] : undefined
    const own = scanner !== undefined && scanner.owns.length > 0 && random() < 0.5
    const i = own ? (scanner.owns[Math.floor(random() * scanner.owns.length)] ?? 0) : (order[zipf.draw() - 1] ?? 0)
    const region = REGIONS[Math.floor(random() * REGIONS.length)]
    const body = JSON.stringify({ tag: digitalLinkOf(garmentKey(i)), ...(region ? { context: { region } } : {}) })
    out.push(scanner === undefined ? { body } : { body, authorization: scanner.authorization })
  }
  return out
}

const REQUESTS_PER_ROUND = 150_000
/** the cold goal: this share of the Postgres baseline's throughput */
const COLD_GOAL = 0.33
/** the cold goal's p99, read on the paced round (a closed loop of 50 connections queues far past it) */
const P99_GOAL_MS = 25
/** the paced round's rate as a share of the gateway's saturated rate, when the goal's rate is above it */
const PACED_SHARE = 0.5
/** below this share of the machine busy, the paced round's tail is read as the hops'; above it, as the cores' or the event loops' queue */
const PACED_BUSY = 0.6
/** the cores are the paced tail's cause when a scan's main threads wait for one at least this share of its p50 */
const CORE_WAIT_SHARE = 0.25

export interface ColdOptions {
  readonly harness: Harness
  readonly gatewayUrl: string
  readonly gatewayPid: number | undefined
  /** the processes of the services the gateway calls (brain, policy, knowledge), by name */
  readonly backendPids: ReadonlyArray<readonly [string, number | undefined]>
  readonly gatewayMetricsUrl: string
  /** the metrics of the services the gateway calls: their own count of the SQL statements they ran */
  readonly backendMetricsUrls: ReadonlyArray<readonly [service: string, url: string]>
  readonly redisPid: number
  readonly redisCommands: () => Promise<number>
  readonly scanners: ReadonlyArray<Scanner>
  readonly poolMax: number
  readonly rounds: number
  readonly seconds: number
}

/** the gateway's metrics and the backends', read at once */
const expositions = async (o: ColdOptions) => ({
  gateway: await fetch(o.gatewayMetricsUrl).then((r) => r.text()),
  backends: new Map(
    await Promise.all(
      o.backendMetricsUrls.map(async ([service, url]) => [service, await fetch(url).then((r) => r.text())] as const)
    )
  )
})
type Expositions = Awaited<ReturnType<typeof expositions>>

/** one sample of everything the phase reads before and after a gateway round */
const sample = async (o: ColdOptions, dbPids: ReadonlyArray<number>) => {
  const metrics = await expositions(o)
  // every statement the scan path's services ran, by their own query timing (QueryTiming.ts): exact, and
  // blind to the baseline's (Postgres's own counters publish late, so the baseline's leaked into the round's)
  let statements = counterSum(metrics.gateway, "brandme_db_query_duration_seconds_count", {})
  for (const text of metrics.backends.values()) {
    statements += counterSum(text, "brandme_db_query_duration_seconds_count", {})
  }
  const bench = process.cpuUsage()
  return {
    metrics,
    gateway: cpuMillis(o.gatewayPid),
    gatewayMain: mainThreadMillis(o.gatewayPid),
    gatewayWait: coreWaitMillis(o.gatewayPid),
    gatewayWrites: writeCalls(o.gatewayPid),
    backendWrites: o.backendPids.reduce((a, [, pid]) => a + writeCalls(pid), 0),
    backends: o.backendPids.map(([, pid]) => cpuMillis(pid)),
    backendsMain: o.backendPids.map(([, pid]) => mainThreadMillis(pid)),
    backendsWait: o.backendPids.map(([, pid]) => coreWaitMillis(pid)),
    bench: (bench.user + bench.system) / 1000,
    redis: cpuMillis(o.redisPid),
    redisWait: coreWaitMillis(o.redisPid),
    postgres: new Map(dbPids.map((p) => [p, cpuMillis(p)])),
    machine: machineTicks(),
    hits: counterSum(metrics.gateway, "brandme_cache_requests_total", { cache: "scan_answer", result: "hit" }),
    misses: counterSum(metrics.gateway, "brandme_cache_requests_total", { cache: "scan_answer", result: "miss" }),
    statements,
    redisCommands: await o.redisCommands()
  }
}

const settle = () => new Promise((r) => setTimeout(r, 1100))

/**
 * Where the paced round's scans spent their time, by the services' own histograms between two readings: the
 * scan in the gateway (brandme_scan_duration_seconds: from the request's arrival to its answer), each callee's
 * calls waiting for a batch window and their round trip (brandme_internal_call_duration_seconds), and the
 * callee's own handling of a batch (its /internal/batch in brandme_http_request_duration_seconds): what the
 * round trip adds to it is the hop — both processes' wake-ups and the HTTP between them. Bucket-interpolated.
 */
const stepsOf = (before: Expositions, after: Expositions) => {
  const fmt = (v: number | undefined) => (v === undefined ? "—" : v < 10 ? v.toFixed(1) : v.toFixed(0))
  const pair = (b: string, a: string, name: string, labels: Readonly<Record<string, string>>) =>
    `${fmt(histogramQuantile(b, a, name, labels, 0.5))} / ${fmt(histogramQuantile(b, a, name, labels, 0.99))}`
  const steps = [`scan in the gateway ${pair(before.gateway, after.gateway, "brandme_scan_duration_seconds", {})}`]
  // the services the gateway calls: the backends whose metrics are read
  for (const [callee, served] of after.backends) {
    const calls = counterSum(after.gateway, "brandme_internal_call_duration_seconds_count", { callee, stage: "waited" })
    const was = counterSum(before.gateway, "brandme_internal_call_duration_seconds_count", { callee, stage: "waited" })
    if (calls - was <= 0) continue
    const call = (stage: string) =>
      pair(before.gateway, after.gateway, "brandme_internal_call_duration_seconds", { callee, stage })
    const servedBefore = before.backends.get(callee) ?? ""
    const handling = pair(servedBefore, served, "brandme_http_request_duration_seconds", { route: "/internal/batch" })
    // the statements the callee ran meanwhile (its own query timing, every operation): a slow one holds its batch
    const ran =
      counterSum(served, "brandme_db_query_duration_seconds_count", {}) -
      counterSum(servedBefore, "brandme_db_query_duration_seconds_count", {})
    const queries =
      ran > 0
        ? `, its ${ran} SQL statements ${pair(servedBefore, served, "brandme_db_query_duration_seconds", {})}`
        : ""
    steps.push(
      `${callee} (${calls - was} calls) waited ${call("waited")}, round trip ${call("round_trip")}, its handling ${handling}${queries}`
    )
  }
  return steps.join("; ")
}

/**
 * How long each process's event loop stalled over a round: prom-client's event-loop delay histogram, which each
 * scrape resets (so the reading after a round covers it), its max and p99 less the sampling interval. Node's
 * monitor records the time between the firings of a timer due every `EVENT_LOOP_SAMPLE_MS` (100 ms: an idle loop
 * reads 100.0–100.4 ms), so what exceeds the interval is how late the timer ran: a stall that spanned its due time
 * (a shorter one between two firings is not seen). A process of several services has a histogram per service's
 * registry, all on one loop: the worst is read.
 */
const stallsOf = (o: ColdOptions, after: Expositions) => {
  const lag = (text: string, q: "max" | "p99") =>
    Math.max(0, 1000 * counterSum(text, `nodejs_eventloop_lag_${q}_seconds`, {}) - EVENT_LOOP_SAMPLE_MS)
  const of = (texts: ReadonlyArray<string>) =>
    `${Math.max(...texts.map((t) => lag(t, "max"))).toFixed(1)} / ${Math.max(...texts.map((t) => lag(t, "p99"))).toFixed(1)}`
  const processes = o.backendPids.map(([name]) => {
    const texts = name.split("+").flatMap((service) => {
      const t = after.backends.get(service)
      return t === undefined ? [] : [t]
    })
    return `${name} ${texts.length === 0 ? "—" : of(texts)}`
  })
  return [`gateway ${of([after.gateway])}`, ...processes].join(", ")
}

/**
 * The collections each process ran over a round and how long they held its JavaScript thread, by kind: prom-client's
 * nodejs_gc_duration_seconds (Node's GC performance entries: the main thread's pause of each collection; V8's
 * helper threads' work beside it is in the CPU figures). `major` is the mark-compact's final pause, `incremental`
 * its marking steps between turns, `minor` a scavenge. A process of several services observes each collection
 * once per service's registry: its first service's is read.
 */
const collectionsOf = (o: ColdOptions, before: Expositions, after: Expositions) => {
  const NAME = "nodejs_gc_duration_seconds"
  const of = (b: string, a: string) =>
    (["major", "incremental", "minor"] as const)
      .map((kind) => {
        const count = counterSum(a, `${NAME}_count`, { kind }) - counterSum(b, `${NAME}_count`, { kind })
        const ms = 1000 * (counterSum(a, `${NAME}_sum`, { kind }) - counterSum(b, `${NAME}_sum`, { kind }))
        // the histogram's 10 ms bucket: how many of them held the thread longer
        const within = (t: string) => counterSum(t, `${NAME}_bucket`, { kind, le: "0.01" })
        const long = count - (within(a) - within(b))
        return count <= 0
          ? undefined
          : `${kind} ${count} (${ms.toFixed(0)} ms${long > 0 ? `, ${long} over 10 ms` : ""})`
      })
      .filter((x) => x !== undefined)
      .join(", ") || "none"
  const processes = o.backendPids.map(([name]) => {
    const first = name.split("+")[0] ?? name
    const a = after.backends.get(first)
    return `${name} ${a === undefined ? "—" : of(before.backends.get(first) ?? "", a)}`
  })
  return [`gateway ${of(before.gateway, after.gateway)}`, ...processes].join("; ")
}

/** when a paced round's slowest 1 % were due, in words */
const tailOf = (r: LoadResult) => {
  const t = r.tail
  if (t === undefined) return "—"
  return (
    `${t.requests} (≥ ${t.threshold.toFixed(0)} ms) in ${t.windows} of its ${t.of} windows of ${TAIL_WINDOW_MS} ms, ` +
    `${t.worst.requests} in the worst (due at ${(t.worst.at / 1000).toFixed(2)} s)`
  )
}

/** the Postgres backends serving this database (knowledge, policy, the baseline, the gateway) */
const backendPids = async (dbUrl: string): Promise<Array<number>> => {
  const db = new pg.Client({ connectionString: dbUrl })
  await db.connect()
  try {
    const r = await db.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return r.rows.map((x) => x.pid)
  } finally {
    await db.end()
  }
}

type Sample = Awaited<ReturnType<typeof sample>>

/** what the rounds used between their samples: CPU ms per process, the machine's ticks, the scans' counters */
const totals = (o: ColdOptions) => ({
  gateway: 0,
  gatewayMain: 0,
  gatewayWait: 0,
  gatewayWrites: 0,
  backendWrites: 0,
  backends: o.backendPids.map(() => 0),
  backendsMain: o.backendPids.map(() => 0),
  backendsWait: o.backendPids.map(() => 0),
  bench: 0,
  redis: 0,
  redisWait: 0,
  postgres: 0,
  busy: 0,
  total: 0,
  hits: 0,
  misses: 0,
  statements: 0,
  cmds: 0
})

const accumulate = (t: ReturnType<typeof totals>, a: Sample, b: Sample) => {
  t.gateway += b.gateway - a.gateway
  t.gatewayMain += b.gatewayMain - a.gatewayMain
  t.gatewayWait += b.gatewayWait - a.gatewayWait
  t.redisWait += b.redisWait - a.redisWait
  for (const [i, after] of b.backendsWait.entries()) t.backendsWait[i]! += after - (a.backendsWait[i] ?? 0)
  t.gatewayWrites += b.gatewayWrites - a.gatewayWrites
  t.backendWrites += b.backendWrites - a.backendWrites
  for (const [i, after] of b.backends.entries()) t.backends[i]! += after - (a.backends[i] ?? 0)
  for (const [i, after] of b.backendsMain.entries()) t.backendsMain[i]! += after - (a.backendsMain[i] ?? 0)
  t.bench += b.bench - a.bench
  t.redis += b.redis - a.redis
  // a backend that ended meanwhile counts nothing rather than a negative
  for (const [pid, after] of b.postgres) t.postgres += Math.max(0, after - (a.postgres.get(pid) ?? 0))
  t.busy += b.machine.busy - a.machine.busy
  t.total += b.machine.total - a.machine.total
  t.hits += b.hits - a.hits
  t.misses += b.misses - a.misses
  t.statements += b.statements - a.statements
  t.cmds += b.redisCommands - a.redisCommands
}

/**
 * One gateway round, measured: sampled a settle after the round before it (its last work — the baseline's
 * connections' CPU, Postgres's — done) and a settle after it, with the backends that connected during the round
 * (idle pool connections close), added to `t`; the two samples' metrics are returned with the round's result.
 */
const measuredRound = async (o: ColdOptions, t: ReturnType<typeof totals>, run: () => Promise<LoadResult>) => {
  const pids = await backendPids(dbUrlOf(o.harness))
  await settle()
  const a = await sample(o, pids)
  const result = await run()
  await settle()
  const b = await sample(o, [...new Set([...pids, ...(await backendPids(dbUrlOf(o.harness)))])])
  accumulate(t, a, b)
  return { result, before: a.metrics, after: b.metrics }
}

/** Runs the cold phase; prints each round, the totals and where the gateway's time went; returns the ratio. */
export const runColdPhase = async (o: ColdOptions): Promise<number> => {
  const baseline = await startPgBaseline(dbUrlOf(o.harness), o.poolMax, o.harness.config.database.idleTimeoutMs)
  const bs: Array<LoadResult> = []
  const ss: Array<LoadResult> = []
  const t = totals(o)
  try {
    for (let r = 0; r < o.rounds; r++) {
      const file = join(tmpdir(), `bench-scan-cold-${process.pid}-${r}.json`)
      writeFileSync(file, JSON.stringify(roundRequests(o.scanners, REQUESTS_PER_ROUND, 1000 + r)))
      // which side goes first alternates round by round: a slow spell of this shared machine, or Postgres's pages
      // left warm by the side before (both read the permutation's rows), meets both sides alike
      const pgSide = async () => bs.push(await autocannonOver(baseline.url, o.seconds, file))
      const scanSide = async () =>
        ss.push((await measuredRound(o, t, () => autocannonOver(`${o.gatewayUrl}/v1/scans`, o.seconds, file))).result)
      if (r % 2 === 0) {
        await pgSide()
        await scanSide()
      } else {
        await scanSide()
        await pgSide()
      }
      rmSync(file, { force: true })
      console.log(`cold round ${r + 1}: ${line("pg", bs[r]!)}`)
      console.log(`cold round ${r + 1}: ${line("scan", ss[r]!)}`)
    }
  } catch (e) {
    await baseline.close()
    throw e
  }
  const b = combine(bs)
  const s = combine(ss)
  // latency below saturation: one more round (a new permutation) paced at the goal's rate, or at
  // PACED_SHARE of what the gateway sustained when the goal's rate is beyond it
  const goalRate = COLD_GOAL * b.requests.average
  // BENCH_PACED_RATE sets it (requests a second), e.g. low to see a lone cold scan's latency
  const fixed = process.env.BENCH_PACED_RATE
  const pacedRate = Math.max(
    1,
    Math.round(fixed !== undefined ? Number(fixed) : Math.min(goalRate, PACED_SHARE * s.requests.average))
  )
  const pacedWhy =
    fixed !== undefined
      ? "BENCH_PACED_RATE"
      : pacedRate < Math.round(goalRate)
        ? `${Math.round(PACED_SHARE * 100)} % of the saturated scan rate; the goal's ${Math.round(goalRate)} req/s is beyond it`
        : `the goal's rate, ${Math.round(COLD_GOAL * 100)} % of the pg baseline`
  const pacedFile = join(tmpdir(), `bench-scan-cold-${process.pid}-paced.json`)
  // only what the round sends: the load runner reads no more than it needs (its heap is part of the measurement)
  const pacedCount = Math.min(REQUESTS_PER_ROUND, pacedRate * o.seconds)
  writeFileSync(pacedFile, JSON.stringify(roundRequests(o.scanners, pacedCount, 1000 + o.rounds)))
  // the Postgres baseline on the same schedule and requests first (as in the saturated rounds): the latency
  // this machine gives one indexed lookup behind node:http at that rate, the floor the scan's is read against
  let pgPaced: LoadResult
  let paced: LoadResult
  const tp = totals(o)
  let pacedSteps: string
  let pacedStalls: string
  let pacedCollections: string
  try {
    pgPaced = await autocannonOver(baseline.url, o.seconds, pacedFile, pacedRate)
    const round = await measuredRound(o, tp, () =>
      autocannonOver(`${o.gatewayUrl}/v1/scans`, o.seconds, pacedFile, pacedRate)
    )
    paced = round.result
    pacedSteps = stepsOf(round.before, round.after)
    pacedStalls = stallsOf(o, round.after)
    pacedCollections = collectionsOf(o, round.before, round.after)
  } finally {
    rmSync(pacedFile, { force: true })
    await baseline.close()
  }
  const n = Math.max(1, s.requests.total)
  const us = (ms: number) => ((ms * 1000) / n).toFixed(0)
  // Postgres in another PID namespace (a container) shows no /proc entries here
  const postgres = t.postgres > 0 ? `${us(t.postgres)} µs` : "n/a (its processes are not visible here)"
  const answered = t.hits + t.misses
  console.log(
    `cold: ${GARMENTS.toLocaleString("en")} garments of ${BRANDS} brands, Zipf s=${ZIPF_S}, ` +
      `${Math.round(SIGNED_IN_SHARE * 100)} % signed in, a new permutation each round`
  )
  console.log(
    `cold where the time goes (per scan): gateway process ${us(t.gateway)} µs CPU, ` +
      o.backendPids.map(([name], i) => `${name} process ${us(t.backends[i]!)} µs, `).join("") +
      `bench process (load runner's control, baselines idle) ${us(t.bench)} µs, postgres ${postgres}, ` +
      `redis ${us(t.redis)} µs; ` +
      `machine busy ${((100 * t.busy) / Math.max(1, t.total)).toFixed(0)} %`
  )
  console.log(
    `cold answers: ${answered === 0 ? "?" : ((100 * t.misses) / answered).toFixed(1)} % built afresh ` +
      `(scan_answer misses ${t.misses} of ${answered}); ${(t.statements / n).toFixed(2)} SQL statements (the services' ` +
      `own count) and ${(t.cmds / n).toFixed(1)} Redis commands per scan (Redis is shared: others' commands count too)`
  )
  // each Node process: all its threads, and its JavaScript thread alone (the rest is V8's GC and compiler threads)
  const nodes = [
    ["the gateway process", t.gateway, t.gatewayMain],
    ...o.backendPids.map(([name], i) => [`the ${name} process`, t.backends[i]!, t.backendsMain[i]!] as const)
  ] as const
  const shares = [
    ...nodes.map(([name, ms]) => [name, ms] as const),
    ["the bench process", t.bench],
    ["postgres", t.postgres],
    ["redis", t.redis]
  ] as const
  const top = [...shares].sort((x, y) => y[1] - x[1])[0]!
  const busy = t.busy / Math.max(1, t.total)
  // CPU ms per ms of load (the runner's start-up and the settling send nothing)
  const cores = (ms: number) => ms / (o.rounds * o.seconds * 1000)
  // a saturated JavaScript thread limits its process whatever the machine's other cores do
  const saturated = nodes.find(([, , main]) => cores(main) >= SATURATED_CORE)
  const measured = Math.max(
    1,
    shares.reduce((a, x) => a + x[1], 0)
  )
  const name = (n: string) => n.replace(/^the | process$/g, "")
  console.log(
    `cold JavaScript threads (per scan): ${nodes
      .map(([n, ms, main]) => `${name(n)} ${us(main)} µs, its other threads (V8's GC, compiler) ${us(ms - main)} µs`)
      .join("; ")}`
  )
  // what each process used of a core while scans ran, and of that its JavaScript thread
  const perProcess = shares
    .filter(([, ms]) => ms > 0)
    .map(([n, ms]) => {
      const node = nodes.find(([x]) => x === n)
      return `${name(n)} ${cores(ms).toFixed(2)}${node === undefined ? "" : ` (JavaScript ${cores(node[2]).toFixed(2)})`}`
    })
    .join(", ")
  console.log(`cold cores used while scans ran (of ${availableParallelism()}): ${perProcess}`)
  console.log(
    `cold limited by: ${
      saturated !== undefined
        ? `CPU — ${saturated[0]}'s JavaScript thread used ${cores(saturated[2]).toFixed(2)} of a core while scans ` +
          `ran: it is saturated (the process ${cores(saturated[1]).toFixed(2)} with its GC threads; machine ` +
          `${(busy * 100).toFixed(0)} % busy)`
        : busy > 0.75
          ? `CPU — the machine's cores are ${(busy * 100).toFixed(0)} % busy between the processes, most of it ` +
            `${top[0]} (${((100 * top[1]) / measured).toFixed(0)} % of the measured CPU, its GC threads included): ` +
            "less CPU per scan in every process, not fewer waits, raises the rate"
          : `waiting, not CPU (the cores are ${(busy * 100).toFixed(0)} % busy): round trips per scan`
    }`
  )
  console.log(`cold paced: ${line("pg", pgPaced)} — the Postgres baseline on the same schedule`)
  console.log(`cold paced: ${line("scan", paced)} — ${pacedRate} req/s sent on a schedule (${pacedWhy})`)
  // a tail spread over every second is queueing; one in a second or two is a stall (a collection, a neighbour)
  const bySecond = (r: LoadResult) => (r.p99BySecond ?? []).map((v) => (v === null ? "–" : String(v))).join(" ")
  console.log(`cold paced, p99 of each second's requests (ms): scan ${bySecond(paced)}; pg ${bySecond(pgPaced)}`)
  console.log(
    `cold paced, where a scan's time goes (p50 / p99 in ms, from the services' own histograms): ${pacedSteps}`
  )
  console.log(
    `cold paced, event loops' stalls over the round (max / p99 in ms beyond the ${EVENT_LOOP_SAMPLE_MS} ms sampling ` +
      `interval, prom-client's nodejs_eventloop_lag_*_seconds): ${pacedStalls}`
  )
  console.log(
    `cold paced, the services' collections over the round (count, their pauses of the JavaScript thread in all; ` +
      `prom-client's nodejs_gc_duration_seconds): ${pacedCollections}`
  )
  console.log(`cold paced, when the slowest 1 % were due: scan ${tailOf(paced)}; pg ${tailOf(pgPaced)}`)
  console.log(
    `cold p99 below saturation: scan ${paced.latency.p99} ms against the goal's ${P99_GOAL_MS} ms ` +
      `(${paced.latency.p99 <= P99_GOAL_MS ? "met" : "not met"}); the pg baseline's on the same schedule ` +
      `${pgPaced.latency.p99} ms (this machine's floor for one lookup behind node:http)`
  )
  // the paced round's CPU per scan beside the saturated rounds': a scan alone in its event-loop turn shares no
  // round trip (batch, pipeline, socket write) with others, so it costs more — and the cores it needs set its queueing
  const pn = Math.max(1, paced.requests.total)
  const pus = (ms: number) => ((ms * 1000) / pn).toFixed(0)
  const pacedBusy = tp.busy / Math.max(1, tp.total)
  const percent = (x: number) => `${(x * 100).toFixed(0)} %`
  console.log(
    `cold paced, CPU per scan (the saturated rounds' in brackets): gateway process ${pus(tp.gateway)} µs (${us(t.gateway)}), ` +
      o.backendPids
        .map(([name], i) => `${name} process ${pus(tp.backends[i]!)} µs (${us(t.backends[i]!)}), `)
        .join("") +
      `postgres ${t.postgres > 0 ? `${pus(tp.postgres)} µs (${us(t.postgres)})` : "n/a"}, redis ${pus(tp.redis)} µs ` +
      `(${us(t.redis)}); machine ${percent(pacedBusy)} busy (${percent(busy)} saturated; both windows include the ` +
      "load runner's start-up and a second of settling)"
  )
  const writes = (x: ReturnType<typeof totals>, count: number) =>
    `gateway ${(x.gatewayWrites / Math.max(1, count)).toFixed(1)}, ${o.backendPids.map(([name]) => name).join(" + ")} ` +
    `${(x.backendWrites / Math.max(1, count)).toFixed(1)}`
  const missShare = (x: ReturnType<typeof totals>) =>
    x.hits + x.misses === 0 ? "?" : percent(x.misses / (x.hits + x.misses))
  console.log(
    `cold paced, socket writes per scan (write and writev calls, /proc/<pid>/io): ${writes(tp, pn)} ` +
      `(saturated: ${writes(t, n)}); answers built afresh ${missShare(tp)} (saturated ${missShare(t)})`
  )
  // the scheduler's own count of each main thread's time runnable but not running: queueing for the cores
  const waitsOf = (x: ReturnType<typeof totals>) => [x.gatewayWait, ...x.backendsWait, x.redisWait]
  const waitNames = ["gateway", ...o.backendPids.map(([name]) => name), "redis"]
  const saturatedWaits = waitsOf(t)
  console.log(
    "cold paced, waiting for a core per scan (µs each main thread was runnable but not running, " +
      `/proc/<pid>/task/<pid>/schedstat; saturated in brackets): ${waitsOf(tp)
        .map((ms, i) => `${waitNames[i]} ${pus(ms)} (${us(saturatedWaits[i]!)})`)
        .join(", ")}`
  )
  const perScan = (x: ReturnType<typeof totals>, count: number) =>
    (x.gateway + x.backends.reduce((a, v) => a + v, 0) + x.postgres + x.redis) / Math.max(1, count)
  // the cores explain the tail when a scan's main threads waited for one a good share of its typical latency;
  // else each process's event loop does: a scan's steps wait behind other scans' work on the same thread
  const pacedWaitMs = (tp.gatewayWait + tp.backendsWait.reduce((a, v) => a + v, 0)) / pn
  const pacedCores = (ms: number) => ms / (o.seconds * 1000)
  const threads =
    `the gateway's JavaScript thread busy ${percent(pacedCores(tp.gatewayMain))} of the round, ` +
    o.backendPids.map(([name], i) => `${name}'s ${percent(pacedCores(tp.backendsMain[i]!))}`).join(", ")
  console.log(
    `cold paced limited by: ${
      paced.tail !== undefined && tailCrowded(paced.tail)
        ? `stalls — the slowest 1 % were due in ${paced.tail.windows} of the round's ${paced.tail.of} windows of ` +
          `${TAIL_WINDOW_MS} ms (${paced.tail.worst.requests} in the worst), not spread as a steady queue spreads ` +
          "them: a pause (a collection above, a process descheduled) and the backlog behind it, which the " +
          `${percent(1 - pacedBusy)} of the cores left idle drain slowly; ${threads}`
        : pacedBusy < PACED_BUSY
          ? `the hops — the cores are ${percent(pacedBusy)} busy: the tail is the round trips' (the steps above)`
          : pacedWaitMs >= CORE_WAIT_SHARE * paced.latency.p50
            ? `CPU — at ${pacedRate} req/s the cores are ${percent(pacedBusy)} busy and a scan's main threads waited ` +
              `${pacedWaitMs.toFixed(1)} ms for one (its p50 ${paced.latency.p50} ms): a paced scan cost ` +
              `${(perScan(tp, pn) / perScan(t, n)).toFixed(1)}× the CPU of a saturated one (fewer scans share each ` +
              "batch, pipeline and socket write)"
            : `the event loops, not the cores' queue — at ${pacedRate} req/s the cores are ${percent(pacedBusy)} busy ` +
              `but a scan's main threads waited only ${pacedWaitMs.toFixed(1)} ms for one (its p50 ` +
              `${paced.latency.p50} ms); ${threads}: a scan's steps wait behind other scans' work on each thread, ` +
              `and its calls for a batch window (the steps above); a paced scan cost ` +
              `${(perScan(tp, pn) / perScan(t, n)).toFixed(1)}× the CPU of a saturated one`
    }`
  )
  console.log(line("pg", b))
  console.log(line("cold", s))
  const ratios = pairedRatios(bs, ss)
  console.log(
    `cold scan / pg, round by round (each pair back to back, which first alternating): ` +
      `${ratios.map((x) => x.toFixed(3)).join(" ")} — median ${median(ratios).toFixed(3)} (the ratio); ` +
      `of the totals ${(s.requests.average / b.requests.average).toFixed(3)}`
  )
  return median(ratios)
}
