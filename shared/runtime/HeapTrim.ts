import { performance } from "node:perf_hooks"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Duration, Effect, Schedule, type Scope } from "effect"

/**
 * Gives an idle process's unused heap back to the operating system.
 *
 * Since Node 24 (V8 13) a service holds 20–50 MiB more than it uses once it has started or served a burst:
 * old-space pages emptied by ordinary collections stay committed, and the young generation stays at its
 * grown size. V8 releases them only in a memory-reducing collection, which its memory reducer does not
 * dependably start on an idle process (docs/memory.md has the figures). So every `intervalMs` this looks at
 * the event loop: if it was less than `IdleUtilization` busy since the last look (no real traffic) and the
 * resident set grew by `MinGrowthBytes` since the last trim (or there was none yet), it runs one
 * memory-reducing collection — the one V8 runs on memory pressure (`flavor: "last-resort"`). It pauses the
 * process for tens of milliseconds, only when idle; under load it never runs.
 */
export const IdleUtilization = 0.05
export const MinGrowthBytes = 8 * 1024 * 1024

export interface TrimState {
  /** the resident set right after the last trim; undefined before the first */
  readonly rssAfterLastTrim: number | undefined
}

/** Whether to trim now, from the event loop's utilization since the last look and the resident set now. */
export const shouldTrim = (state: TrimState, utilization: number, rss: number): boolean =>
  utilization < IdleUtilization &&
  (state.rssAfterLastTrim === undefined || rss - state.rssAfterLastTrim >= MinGrowthBytes)

type Collect = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void

let collect: Collect | undefined
/** V8's gc function with its options; exposed once, here, rather than by a flag every shape must pass. */
const memoryReducingCollector = (): Collect => {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: Collect }).gc
    if (exposed !== undefined) collect = exposed
    else {
      setFlagsFromString("--expose-gc")
      collect = runInNewContext("gc") as Collect
    }
  }
  return collect
}

export interface Trim {
  readonly rssBefore: number
  readonly rssAfter: number
  readonly millis: number
}

/** One memory-reducing collection, with the resident set before and after. */
export const trimHeap = (): Trim => {
  const gc = memoryReducingCollector()
  const rssBefore = process.memoryUsage.rss()
  const t0 = performance.now()
  gc({ type: "major", execution: "sync", flavor: "last-resort" })
  return { rssBefore, rssAfter: process.memoryUsage.rss(), millis: performance.now() - t0 }
}

const mib = (b: number) => (b / 1048576).toFixed(1)

/** The background look described above, for the life of the scope; intervalMs 0 turns it off. */
export const heapTrimInBackground = (intervalMs: number): Effect.Effect<void, never, Scope.Scope> =>
  intervalMs === 0
    ? Effect.void
    : Effect.gen(function* () {
        let state: TrimState = { rssAfterLastTrim: undefined }
        let mark = performance.eventLoopUtilization()
        const look = Effect.gen(function* () {
          const now = performance.eventLoopUtilization()
          const busy = performance.eventLoopUtilization(now, mark).utilization
          mark = now
          if (!shouldTrim(state, busy, process.memoryUsage.rss())) return
          const t = trimHeap()
          state = { rssAfterLastTrim: t.rssAfter }
          // after the collection: its own time must not count as traffic at the next look
          mark = performance.eventLoopUtilization()
          yield* Effect.logDebug(
            `heap trim: ${mib(t.rssBefore)} → ${mib(t.rssAfter)} MiB resident in ${t.millis.toFixed(0)} ms`
          )
        })
        yield* Effect.forkScoped(
          Effect.repeat(Effect.delay(look, Duration.millis(intervalMs)), Schedule.forever).pipe(Effect.asVoid)
        )
      })
