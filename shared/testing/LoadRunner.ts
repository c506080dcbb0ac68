/**
 * Load over a list of requests, in its own process (`autocannonOver` in Processes.ts starts it):
 * `node --import tsx shared/testing/LoadRunner.ts <url> <seconds> <requests.json> [rate]`, where the file is a
 * JSON array of `{ body, authorization? }`, each sent as a JSON POST, in order from one shared cursor
 * (wrapping at the end). Prints the result as autocannon's JSON report shapes it (`LoadResult`).
 *
 * Without `rate`: autocannon, 50 connections sending as fast as the answers come (closed loop: throughput).
 * With `rate`: an open loop — requests are issued on a uniform schedule, `rate` a second, whatever the answers do,
 * over the same 50 keep-alive connections (a request due while all are busy waits for one), and each latency
 * counts from the request's scheduled time, so a server that falls behind shows it. autocannon's own `overallRate` is not that: it gives each
 * connection a budget per second, spent back to back at the start of the second, so every second begins
 * with a saturating burst and its latencies are those of a saturated server.
 */
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import autocannon from "autocannon"
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
const plain = { "content-type": "application/json" }
const headers = list.map((r) => (r.authorization === undefined ? plain : { ...plain, authorization: r.authorization }))
let next = 0

/** a latency percentile in whole ms, as autocannon reports them (0 with no answers) */
const ms = (sorted: ReadonlyArray<number>, p: number) => (sorted.length === 0 ? 0 : Math.round(percentile(sorted, p)))

const REQUEST_TIMEOUT_MS = 10_000
const CONNECTIONS = 50

const paced = (perSecond: number, durationMs: number) =>
  new Promise<void>((resolve) => {
    const target = new URL(url)
    // 50 keep-alive connections, as the closed loop has (the gateway admits 64 per client, HTTP_MAX_CONNECTIONS_PER_CLIENT):
    // a request due while all are busy waits for one, and that wait counts in its latency
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
    const latencies: Array<number> = []
    let sent = 0
    let inFlight = 0
    let stopped = false
    let errors = 0
    let timeouts = 0
    let non2xx = 0
    const start = performance.now()
    const report = () => {
      agent.destroy()
      latencies.sort((a, b) => a - b)
      process.stdout.write(
        JSON.stringify({
          requests: { average: latencies.length / (durationMs / 1000), total: latencies.length },
          latency: { p50: ms(latencies, 50), p99: ms(latencies, 99) },
          errors,
          timeouts,
          non2xx
        })
      )
      resolve()
    }
    const settled = () => {
      inFlight--
      if (stopped && inFlight === 0) report()
    }
    const fire = (scheduledAt: number) => {
      const i = next
      next = (next + 1) % list.length
      const body = list[i]!.body
      inFlight++
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: "POST",
          headers: { ...headers[i]!, "content-length": Buffer.byteLength(body) },
          timeout: REQUEST_TIMEOUT_MS
        },
        (res) => {
          res.resume()
          res.on("end", () => {
            latencies.push(performance.now() - scheduledAt)
            if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) non2xx++
            settled()
          })
        }
      )
      let timedOut = false
      req.on("timeout", () => {
        timedOut = true
        timeouts++
        req.destroy()
      })
      // a timed-out request ends here too (destroyed), counted once, as a timeout
      req.on("error", () => {
        if (!timedOut) errors++
        settled()
      })
      req.end(body)
    }
    const tick = () => {
      const now = performance.now()
      // request k is due at start + k / perSecond (k = 0, 1, …, all before the end): every one due by now
      // leaves now, stamped with the time it was due
      const due = Math.min(
        Math.floor(((now - start) * perSecond) / 1000) + 1,
        Math.ceil((durationMs * perSecond) / 1000)
      )
      for (; sent < due; sent++) fire(start + (sent * 1000) / perSecond)
      if (now < start + durationMs) return void setTimeout(tick, 1)
      stopped = true
      if (inFlight === 0) report()
    }
    tick()
  })

if (pace !== undefined) {
  await paced(pace, Number(seconds) * 1000)
} else {
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
