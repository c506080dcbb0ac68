import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import {
  IdleUtilization,
  initialTrimState,
  MinGrowthBytes,
  observe,
  SampleMs,
  shouldTrim,
  type TrimState
} from "./HeapTrim.js"

const MiB = 1024 * 1024

describe("shouldTrim", () => {
  const interval = 15_000
  /** the state after one sample a second of each utilization, the first ending a second after `startMs` */
  const sampled = (utilizations: ReadonlyArray<number>, from: TrimState = initialTrimState, startMs = 0) =>
    utilizations.reduce((s, u, i) => observe(s, u, startMs + (i + 1) * SampleMs, SampleMs), from)
  const quiet = (seconds: number) => Array.from({ length: seconds }, () => 0.002)

  it("trims a process quiet for the whole interval that has never been trimmed", () => {
    expect(shouldTrim(sampled(quiet(15)), 15_000, interval, 150 * MiB)).toBe(true)
    expect(shouldTrim(sampled(quiet(14)), 14_000, interval, 150 * MiB)).toBe(false)
  })
  it("never trims a busy process, however much it grew", () => {
    expect(shouldTrim(sampled([...quiet(15), IdleUtilization]), 16_000, interval, 400 * MiB)).toBe(false)
    expect(shouldTrim(sampled([...quiet(15), 0.5]), 16_000, interval, 400 * MiB)).toBe(false)
  })
  it("waits a whole quiet interval after traffic, even when the interval averaged idle", () => {
    // 13 idle seconds, then scans: 2 % over the 15 s on average, but the last seconds were busy
    const resumed = sampled([...quiet(13), 0.15, 0.15])
    expect(shouldTrim(resumed, 15_000, interval, 150 * MiB)).toBe(false)
    expect(shouldTrim(sampled(quiet(14), resumed, 15_000), 29_000, interval, 150 * MiB)).toBe(false)
    expect(shouldTrim(sampled(quiet(15), resumed, 15_000), 30_000, interval, 150 * MiB)).toBe(true)
  })
  it("trims an idle process again only once it grew by MinGrowthBytes since the last trim", () => {
    const trimmed: TrimState = { rssAfterLastTrim: 100 * MiB, quietSince: 0 }
    expect(shouldTrim(trimmed, 20_000, interval, 100 * MiB + MinGrowthBytes - 1)).toBe(false)
    expect(shouldTrim(trimmed, 20_000, interval, 100 * MiB + MinGrowthBytes)).toBe(true)
  })
})

describe("trimHeap", () => {
  it("gives the garbage of a burst back to the operating system", () => {
    // a fresh process: ~120 MiB of short-lived objects grow the old and young generations, then are dropped
    const script = `
      import { trimHeap } from ${JSON.stringify(new URL("./HeapTrim.ts", import.meta.url).pathname)}
      let keep = []
      for (let i = 0; i < 60; i++) { keep.push(Array.from({ length: 100000 }, (_, j) => ({ i, j }))); if (keep.length > 20) keep.shift() }
      keep = []
      const t = trimHeap()
      process.stdout.write(JSON.stringify(t))
    `
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000
    })
    expect(r.stderr).toBe("")
    const t = JSON.parse(r.stdout) as { rssBefore: number; rssAfter: number; millis: number }
    expect(t.rssBefore - t.rssAfter).toBeGreaterThan(20 * MiB)
  })
})
