/**
 * Load over a list of requests, in its own process (`autocannonOver` in Processes.ts starts it):
 * `node --import tsx shared/testing/LoadRunner.ts <url> <seconds> <requests.json> [rate]`, where the file is a
 * JSON array of `{ body, authorization? }`, each sent as a JSON POST, in order from one shared cursor
 * (wrapping at the end). Prints the result as autocannon's JSON report shapes it (`LoadResult`).
 *
 * Without `rate`: autocannon, 50 connections sending as fast as the answers come (closed loop: throughput).
 * With `rate`: an open loop (OpenLoop.ts) — requests are issued on a uniform schedule, `rate` a second, whatever
 * the answers do, over 50 keep-alive connections opened first (a request due while all are busy waits for one),
 * and each latency counts from the request's scheduled time, so a server that falls behind shows it. autocannon's
 * own `overallRate` is not that: it gives each
 * connection a budget per second, spent back to back at the start of the second, so every second begins
 * with a saturating burst and its latencies are those of a saturated server.
 */
import { readFileSync } from "node:fs"
import autocannon from "autocannon"
import { runPaced } from "./OpenLoop.js"
import { percentile } from "./Processes.js"

interface LoadRequest {
  readonly body: string
  readonly authorization?: string
}

const [url, seconds, file, rate] = process.argv.slice(2)
if (url === undefined || seconds === undefined || file === undefined) {
  process.stderr.write("usage: LoadRunner.ts <url> <seconds> <requests.json> [rate]\n")
  process.exit(2)
}
const pace = rate === undefined ? undefined : Number(rate)
if (pace !== undefined && !(Number.isInteger(pace) && pace > 0)) {
  process.stderr.write(`rate: must be a whole number of requests a second above 0, not "${rate}"\n`)
  process.exit(2)
}
const list: ReadonlyArray<LoadRequest> = JSON.parse(readFileSync(file, "utf8"))
if (list.length === 0) throw new Error(`${file} holds no requests`)
let next = 0

/** a latency percentile in whole ms, as autocannon reports them (0 with no answers) */
const ms = (sorted: ArrayLike<number>, p: number) => (sorted.length === 0 ? 0 : Math.round(percentile(sorted, p)))

const REQUEST_TIMEOUT_MS = 10_000
const CONNECTIONS = 50

if (pace !== undefined) {
  const durationMs = Number(seconds) * 1000
  const r = await runPaced(url, list, pace, durationMs, CONNECTIONS, REQUEST_TIMEOUT_MS)
  process.stdout.write(
    JSON.stringify({
      requests: { average: r.latencies.length / (durationMs / 1000), total: r.latencies.length },
      latency: { p50: ms(r.latencies, 50), p99: ms(r.latencies, 99) },
      p99BySecond: r.p99BySecond.map((v) => (Number.isNaN(v) ? null : Math.round(v))),
      tail: r.tail,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx
    })
  )
} else {
  const plain = { "content-type": "application/json" }
  const headers = list.map((r) =>
    r.authorization === undefined ? plain : { ...plain, authorization: r.authorization }
  )
  autocannon(
    {
      url,
      connections: CONNECTIONS,
      duration: Number(seconds),
      requests: [
        {
          method: "POST",
          setupRequest: (req) => {
            const i = next
            next = (next + 1) % list.length
            return { ...req, method: "POST", body: list[i]!.body, headers: headers[i]! }
          }
        }
      ]
    },
    (err, result) => {
      if (err !== null && err !== undefined) {
        process.stderr.write(`autocannon failed: ${String(err)}\n`)
        process.exit(1)
      }
      process.stdout.write(JSON.stringify(result))
    }
  )
}
