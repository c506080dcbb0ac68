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
 * dependably start on an idle process (docs/memory.md has the figures). So this samples the event loop's
 * utilization every `SampleMs`: once every sample of the last `intervalMs` was below `IdleUtilization` (no real
 * traffic) and the resident set grew by `MinGrowthBytes` since the last trim (or there was none yet), it runs one
 * memory-reducing collection — the one V8 runs on memory pressure (`flavor: "last-resort"`). It pauses the
 * process for tens of milliseconds, only when idle; under load it never runs.
 *
 * Quiet for the whole interval, not idle on average over it: judged on the average since the last look, a trim
 * could fire in the first seconds of traffic after an idle spell (a look whose 15 s held 13 idle seconds and two
 * of scans at 15 % still averages 2 %), stopping the process for tens of milliseconds just as requests come. Now
 * any second with traffic starts the wait over.
 */
export const IdleUtilization = 0.05
export const MinGrowthBytes = 8 * 1024 * 1024
/** how often the event loop's utilization is sampled (the interval, when that is shorter) */
export const SampleMs = 1000

export interface TrimState {
  /** the resident set right after the last trim; undefined before the first */
  readonly rssAfterLastTrim: number | undefined
  /** since when (performance.now() ms) every sample was idle; undefined after a busy one */
  readonly quietSince: number | undefined
}

export const initialTrimState: TrimState = { rssAfterLastTrim: undefined, quietSince: undefined }

/** The state after one sample: the loop's `utilization` over the `windowMs` that ended at `now`. */
export const observe = (state: TrimState, utilization: number, now: number, windowMs: number): TrimState =>
  utilization >= IdleUtilization
    ? { ...state, quietSince: undefined }
    : state.quietSince === undefined
      ? { ...state, quietSince: now - windowMs }
      : state

/** Whether to trim at `now`: every sample of the last `intervalMs` idle, and grown since the last trim. */
export const shouldTrim = (state: TrimState, now: number, intervalMs: number, rss: number): boolean =>
  state.quietSince !== undefined &&
  now - state.quietSince >= intervalMs &&
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

/** The background sampling described above, for the life of the scope; intervalMs 0 turns it off. */
export const heapTrimInBackground = (intervalMs: number): Effect.Effect<void, never, Scope.Scope> =>
  intervalMs === 0
    ? Effect.void
    : Effect.gen(function* () {
        const every = Math.min(SampleMs, intervalMs)
        let state = initialTrimState
        let mark = performance.eventLoopUtilization()
        const look = Effect.gen(function* () {
          const elu = performance.eventLoopUtilization()
          const now = performance.now()
          state = observe(state, performance.eventLoopUtilization(elu, mark).utilization, now, every)
          mark = elu
          if (!shouldTrim(state, now, intervalMs, process.memoryUsage.rss())) return
          const t = trimHeap()
          // a next trim waits for another quiet interval, counted from after this one's collection (whose own
          // time must not count as traffic at the next sample)
          state = { rssAfterLastTrim: t.rssAfter, quietSince: performance.now() }
          mark = performance.eventLoopUtilization()
          yield* Effect.logDebug(
            `heap trim: ${mib(t.rssBefore)} → ${mib(t.rssAfter)} MiB resident in ${t.millis.toFixed(0)} ms`
          )
        })
        yield* Effect.forkScoped(
          Effect.repeat(Effect.delay(look, Duration.millis(every)), Schedule.forever).pipe(Effect.asVoid)
        )
      })
