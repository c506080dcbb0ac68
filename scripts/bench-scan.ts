/**
 * `npm run bench:scan`: the scan hot path against a bare node:http + one Redis GET baseline.
 * Starts the gateway in this process on its own ports, database, Redis prefix and queue prefix,
 * warms its caches, then runs autocannon (a separate process, 50 connections) against a bare server
 * and against POST /v1/scans. Prints both, and `ratio=<scan/bare>` as the last line.
 * Goal: ratio ≥ 0.25, scan p99 ≤ 15 ms, no errors. The two targets alternate in BENCH_ROUNDS rounds
 * (default 2) of BENCH_SECONDS each (default 10), so a machine whose load drifts during the run (shared
 * CI cores) skews both sides alike; the figures printed last are over all rounds.
 */
import { execFile } from "node:child_process"
import { createServer } from "node:http"
import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { digitalLinkOf, makeHarness, postJson } from "../services/gateway/testing/ScanPathHarness.js"

interface Result {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number }
  readonly errors: number
  readonly timeouts: number
  readonly non2xx: number
}

const seconds = Number(process.env.BENCH_SECONDS ?? "10")
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? "2"))

const autocannon = (url: string, body?: string): Promise<Result> =>
  new Promise((resolve, reject) => {
    const args = ["-c", "50", "-d", String(seconds), "-j"]
    if (body !== undefined) args.push("-m", "POST", "-H", "content-type=application/json", "-b", body)
    args.push(url)
    execFile("node_modules/.bin/autocannon", args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err !== null) return reject(err)
      try {
        resolve(JSON.parse(stdout))
      } catch (e) {
        reject(e)
      }
    })
  })

/** totals over rounds: throughput averaged, percentiles as the worst round's (conservative) */
const combine = (rs: ReadonlyArray<Result>): Result => ({
  requests: {
    average: rs.reduce((a, r) => a + r.requests.average, 0) / rs.length,
    total: rs.reduce((a, r) => a + r.requests.total, 0)
  },
  latency: { p50: Math.max(...rs.map((r) => r.latency.p50)), p99: Math.max(...rs.map((r) => r.latency.p99)) },
  errors: rs.reduce((a, r) => a + r.errors, 0),
  timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
  non2xx: rs.reduce((a, r) => a + r.non2xx, 0)
})

const line = (name: string, r: Result) =>
  `${name.padEnd(5)} req/s=${Math.round(r.requests.average)} total=${r.requests.total} p50=${r.latency.p50}ms p99=${r.latency.p99}ms errors=${r.errors + r.timeouts} non2xx=${r.non2xx}`

const main = async () => {
  const h = await makeHarness("bench")
  const redis = new IORedis("redis://127.0.0.1:6379")
  const bareKey = `${h.prefix}:bare`
  await redis.set(bareKey, JSON.stringify({ hello: "world" }))
  const bare = createServer((_req, res) => {
    redis.get(bareKey).then(
      (v) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(v ?? "null")
      },
      () => {
        res.writeHead(500)
        res.end()
      }
    )
  })
  try {
    const seed = await h.seed()
    const gateway = await h.startGateway(0, "inprocess")
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()))
    const address = bare.address()
    const bareUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/`
    const body = JSON.stringify({ tag: digitalLinkOf(seed.owned), context: { region: "FR" } })
    for (let i = 0; i < 200; i++) {
      const r = await postJson(`${gateway}/v1/scans`, body)
      if (r.status !== 200) throw new Error(`warm-up scan answered ${r.status}: ${JSON.stringify(r.json)}`)
    }
    const bs: Array<Result> = []
    const ss: Array<Result> = []
    for (let i = 0; i < rounds; i++) {
      bs.push(await autocannon(bareUrl))
      ss.push(await autocannon(`${gateway}/v1/scans`, body))
      console.log(`round ${i + 1}: ${line("bare", bs[i]!)}`)
      console.log(`round ${i + 1}: ${line("scan", ss[i]!)}`)
    }
    const b = combine(bs)
    const s = combine(ss)
    console.log(line("bare", b))
    console.log(line("scan", s))
    const conn = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
    const q = new Queue("scans", { connection: conn, prefix: h.prefix })
    console.log(`queued scan jobs=${await q.count()} (answered 200: ${s.requests.total - s.non2xx})`)
    await q.obliterate({ force: true })
    await q.close()
    conn.disconnect()
    console.log(`ratio=${(s.requests.average / b.requests.average).toFixed(3)}`)
  } finally {
    bare.close()
    redis.disconnect()
    await h.close()
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench:scan failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
)
