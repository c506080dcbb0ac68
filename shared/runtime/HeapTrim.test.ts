import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { IdleUtilization, MinGrowthBytes, shouldTrim } from "./HeapTrim.js"

const MiB = 1024 * 1024

describe("shouldTrim", () => {
  it("trims an idle process that has never been trimmed", () => {
    expect(shouldTrim({ rssAfterLastTrim: undefined }, 0.001, 150 * MiB)).toBe(true)
  })
  it("never trims a busy process, however much it grew", () => {
    expect(shouldTrim({ rssAfterLastTrim: undefined }, IdleUtilization, 400 * MiB)).toBe(false)
    expect(shouldTrim({ rssAfterLastTrim: 100 * MiB }, 0.5, 400 * MiB)).toBe(false)
  })
  it("trims an idle process again only once it grew by MinGrowthBytes since the last trim", () => {
    expect(shouldTrim({ rssAfterLastTrim: 100 * MiB }, 0.01, 100 * MiB + MinGrowthBytes - 1)).toBe(false)
    expect(shouldTrim({ rssAfterLastTrim: 100 * MiB }, 0.01, 100 * MiB + MinGrowthBytes)).toBe(true)
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
