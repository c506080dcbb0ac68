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

/** the sum of a Prometheus counter's samples whose labels include all of `labels` */
export const counterSum = (exposition: string, name: string, labels: Readonly<Record<string, string>>): number => {
  let sum = 0
  for (const row of exposition.split("\n")) {
    if (!row.startsWith(`${name}{`) && !row.startsWith(`${name} `)) continue
    const close = row.lastIndexOf("}")
    const labelText = close < 0 ? "" : row.slice(name.length + 1, close)
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      sum += Number(
        row
          .slice(close < 0 ? name.length : close + 1)
          .trim()
          .split(" ")[0]
      )
    }
  }
  return sum
}

/**
 * A histogram's quantile over what it observed between two expositions (`before`, `after`) of the series whose
 * labels include all of `labels`, their buckets summed, in ms: interpolated linearly within the bucket it falls
 * in, as Prometheus's histogram_quantile does (one past the last finite bound reads as that bound). undefined
 * when nothing was observed.
 */
export const histogramQuantile = (
  before: string,
  after: string,
  name: string,
  labels: Readonly<Record<string, string>>,
  q: number
): number | undefined => {
  const buckets = (exposition: string) => {
    const out = new Map<number, number>()
    for (const row of exposition.split("\n")) {
      if (!row.startsWith(`${name}_bucket{`)) continue
      const close = row.lastIndexOf("}")
      const labelText = row.slice(name.length + 8, close)
      if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue
      const le = /(?:^|,)le="([^"]+)"/.exec(labelText)?.[1]
      if (le === undefined) continue
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le)
      out.set(
        bound,
        (out.get(bound) ?? 0) +
          Number(
            row
              .slice(close + 1)
              .trim()
              .split(" ")[0]
          )
      )
    }
    return out
  }
  const was = buckets(before)
  const now = [...buckets(after)].map(([bound, n]) => [bound, n - (was.get(bound) ?? 0)] as const)
  now.sort((a, b) => a[0] - b[0])
  const total = now.at(-1)?.[1] ?? 0
  if (total <= 0) return undefined
  const rank = q * total
  let lower = 0
  let below = 0
  for (const [bound, n] of now) {
    if (n >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lower * 1000
      return (lower + ((bound - lower) * (rank - below)) / Math.max(1e-12, n - below)) * 1000
    }
    lower = bound
    below = n
  }
  return lower * 1000
}
