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

export const line = (name: string, r: LoadResult) =>
  `${name.padEnd(5)} req/s=${Math.round(r.requests.average)} total=${r.requests.total} p50=${r.latency.p50}ms p99=${r.latency.p99}ms errors=${r.errors + r.timeouts} non2xx=${r.non2xx}`
