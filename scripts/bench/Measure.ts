/** What the benches read while a phase runs: CPU time per process, the machine's busy share, counters. */
import { readFileSync } from "node:fs"
import type { LoadResult } from "../../shared/testing/Processes.js"

/** a process's CPU time so far in ms (user + system), from /proc (Linux); 0 when it cannot be read */
export const cpuMillis = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    return statMillis(`/proc/${pid}/stat`)
  } catch {
    return 0
  }
}

/**
 * Write-class system calls a process has made (`syscw` in /proc/<pid>/io: write and writev, which Node's sockets
 * use); 0 when unreadable. On loopback each socket write carries the TCP work of delivering it, so their count per
 * scan is much of what a scan alone in its event-loop turn costs.
 */
export const writeCalls = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    const m = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

/** CPU ms (user + system) of one /proc stat file (a process's or a thread's) */
const statMillis = (path: string): number => {
  // after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based) → indexes 11 and 12 here
  const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? []
  const ticks = Number(fields[11]) + Number(fields[12])
  return Number.isFinite(ticks) ? (ticks * 1000) / 100 : 0
}

/**
 * A process's main thread's CPU time so far in ms — in Node, the thread JavaScript runs on — from
 * /proc/<pid>/task/<pid>/stat; 0 when it cannot be read. The rest of the process's time (`cpuMillis` minus this) is
 * its other threads': V8's concurrent marking, parallel scavenging and sweeping, the compiler, libuv's pool. A Node
 * process at 1.0 core may have its JavaScript thread far from saturated: in a cold scan round perf counted ~40 %
 * of the gateway's samples on V8's GC threads.
 */
export const mainThreadMillis = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    return statMillis(`/proc/${pid}/task/${pid}/stat`)
  } catch {
    return 0
  }
}

/** the run-queue wait in ms of one schedstat text ("<ns on a cpu> <ns runnable, waiting for one> <timeslices>") */
export const schedstatWaitMillis = (text: string): number => {
  const waited = Number(text.trim().split(/\s+/)[1])
  return Number.isFinite(waited) ? waited / 1e6 : 0
}

/**
 * How long a process's main thread — JavaScript's, in Node; Redis's command loop — has been runnable but waiting for
 * a core, in ms, from /proc/<pid>/task/<pid>/schedstat (the scheduler's own nanosecond count); 0 when unreadable.
 * Over a round, its growth per request is queueing for the machine's cores, apart from the work itself.
 */
export const coreWaitMillis = (pid: number | undefined): number => {
  if (pid === undefined) return 0
  try {
    return schedstatWaitMillis(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8"))
  } catch {
    return 0
  }
}

/**
 * CPU ms (user + system) of this process's children that have exited and been waited for (cutime + cstime in
 * /proc/self/stat): read before and after a child such as autocannon runs, the difference is its CPU.
 */
export const exitedChildrenMillis = (): number => {
  try {
    // after "pid (comm) ": cutime is field 16 and cstime 17 (1-based) → indexes 13 and 14 here
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? []
    const ticks = Number(fields[13]) + Number(fields[14])
    return Number.isFinite(ticks) ? (ticks * 1000) / 100 : 0
  } catch {
    return 0
  }
}

/** the machine's CPU ticks so far: busy and total (the first line of /proc/stat) */
export const machineTicks = (): { readonly busy: number; readonly total: number } => {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  // idle and iowait are the 4th and 5th
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total }
}

/** totals over rounds: throughput averaged, percentiles as the worst round's (conservative) */
export const combine = (rs: ReadonlyArray<LoadResult>): LoadResult => ({
  requests: {
    average: rs.reduce((a, r) => a + r.requests.average, 0) / rs.length,
    total: rs.reduce((a, r) => a + r.requests.total, 0)
  },
  latency: { p50: Math.max(...rs.map((r) => r.latency.p50)), p99: Math.max(...rs.map((r) => r.latency.p99)) },
  errors: rs.reduce((a, r) => a + r.errors, 0),
  timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
  non2xx: rs.reduce((a, r) => a + r.non2xx, 0)
})

/** the middle value (the mean of the two middle ones for an even count); NaN for none */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * Each pair's ratio of rates, `of[i] / to[i]` (pairs measured back to back, so a slow spell of the machine meets
 * both); a pair where `to` did nothing gives 0.
 */
export const pairedRatios = (to: ReadonlyArray<LoadResult>, of: ReadonlyArray<LoadResult>): ReadonlyArray<number> =>
  to.map((t, i) => (t.requests.average > 0 ? (of[i]?.requests.average ?? 0) / t.requests.average : 0))

export const line = (name: string, r: LoadResult) =>
  `${name.padEnd(5)} req/s=${Math.round(r.requests.average)} total=${r.requests.total} p50=${r.latency.p50}ms p99=${r.latency.p99}ms errors=${r.errors + r.timeouts} non2xx=${r.non2xx}`

/** a process at this share of one core or more is CPU-bound on its JavaScript thread */
export const SATURATED_CORE = 0.85

/** what one side of the warm phase used while its load ran */
export interface SideUsage {
  /** requests answered */
  readonly requests: number
  /** ms of load (rounds × seconds) */
  readonly loadMs: number
  /** the serving process's CPU ms (all its threads) */
  readonly processMs: number
  /** of that, its JavaScript thread's */
  readonly mainMs: number
  /** the machine's busy share while it ran (0–1) */
  readonly busy: number
  /** the load generator's CPU ms (autocannon, its own process) */
  readonly loadGeneratorMs: number
}

/**
 * The warm phase's "where the time goes" and "limited by" lines. Both servers are single Node processes: when
 * each one's JavaScript thread is saturated, the ratio of their rates is the inverse ratio of their JavaScript
 * time per request, whatever the machine — so that ratio is printed beside the verdict. A server whose thread
 * is not saturated was held back by something else (the load generator, the machine's other core, Redis).
 */
export const warmVerdict = (bare: SideUsage, scan: SideUsage): ReadonlyArray<string> => {
  const us = (ms: number, s: SideUsage) => (ms * 1000) / Math.max(1, s.requests)
  const cores = (ms: number, s: SideUsage) => ms / Math.max(1, s.loadMs)
  const pct = (x: number) => `${(x * 100).toFixed(0)} %`
  const side = (name: string, s: SideUsage) =>
    `${name} ${cores(s.mainMs, s).toFixed(2)} of a core (the process ${cores(s.processMs, s).toFixed(2)} with its ` +
    `other threads; autocannon ${cores(s.loadGeneratorMs, s).toFixed(2)}; machine ${pct(s.busy)} busy)`
  const scanSaturated = cores(scan.mainMs, scan) >= SATURATED_CORE
  const bareSaturated = cores(bare.mainMs, bare) >= SATURATED_CORE
  const threadRatio = us(bare.mainMs, bare) / Math.max(1e-9, us(scan.mainMs, scan))
  const verdict = scanSaturated
    ? `CPU — the gateway's JavaScript thread is saturated: ${side("it used", scan)}; bare's server thread ` +
      `${side("used", bare)}${bareSaturated ? "" : ", not saturated: bare was held back by something else"}. ` +
      `JavaScript time per request, bare over scan: ${threadRatio.toFixed(3)} — the ratio two saturated threads ` +
      "allow; less of the gateway's own CPU per scan, not the machine, raises it"
    : scan.busy > 0.75
      ? `CPU — the machine's cores are ${pct(scan.busy)} busy while the gateway's JavaScript thread ` +
        `${side("used", scan)}: the processes beside it (the load generator, Redis, V8's GC threads) take the rest`
      : `waiting, not CPU — the gateway's JavaScript thread ${side("used", scan)}: its scans wait on round trips ` +
        "(two to Redis in sequence: the admission with its reads, then the enqueue), so the 50 connections' " +
        "requests in flight, not its CPU, set its rate"
  const bareLine = `bare's server thread ${side("used", bare)}`
  return [
    `warm JavaScript threads (per request): bare ${us(bare.mainMs, bare).toFixed(1)} µs (the bench process; its ` +
      `other threads ${us(bare.processMs - bare.mainMs, bare).toFixed(1)} µs), scan ${us(scan.mainMs, scan).toFixed(1)} µs ` +
      `(the gateway; its other threads — V8's GC, compiler — ${us(scan.processMs - scan.mainMs, scan).toFixed(1)} µs)`,
    `warm limited by: ${verdict}${scanSaturated ? "" : `; ${bareLine}`}`
  ]
}

/** headers node:http writes itself on every answer: a server replaying another's answer leaves them to it */
const OWN_HEADERS = new Set(["date", "connection", "keep-alive", "transfer-encoding"])

/**
 * The headers of an answer, as a bare server replaying the same bytes sends them (the warm phase's
 * `answer` baseline): every header the answering server set, without those node:http adds itself.
 */
export const replayedHeaders = (headers: {
  readonly forEach: (f: (value: string, name: string) => void) => void
}): Record<string, string> => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    const n = name.toLowerCase()
    if (!OWN_HEADERS.has(n)) out[n] = value
  })
  return out
}

/**
 * The warm phase's line about the `answer` baseline — bare node:http answering the scan's own bytes (its body and
 * headers) from one Redis GET: how much of bare's rate the answer's size and headers cost, and the scan's rate
 * against that. The goal's ratio stays against bare's (a small value, one header).
 */
export const answerBaselineLine = (
  bareRate: number,
  answerRate: number,
  scanRate: number,
  bodyBytes: number,
  headerCount: number
): string =>
  `warm, bare answering the scan's own bytes (a ${bodyBytes} B body and the gateway's ${headerCount} headers, ` +
  `from one Redis GET): ${Math.round(answerRate)} req/s, ${((answerRate / Math.max(1, bareRate)) * 100).toFixed(0)} % ` +
  `of bare's rate; the scan ${(scanRate / Math.max(1, answerRate)).toFixed(3)} of it — the rest of the gap to ` +
  "bare is the gateway's own work (admission, validation, enqueue, metrics)"
