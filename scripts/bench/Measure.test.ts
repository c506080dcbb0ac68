import { describe, expect, it } from "vitest"
import { execFile } from "node:child_process"
import {
  answerBaselineLine,
  combine,
  coreWaitMillis,
  cpuMillis,
  exitedChildrenMillis,
  machineTicks,
  mainThreadMillis,
  median,
  pairedRatios,
  replayedHeaders,
  schedstatWaitMillis,
  warmVerdict
} from "./Measure.js"

const result = (average: number, p50: number, p99: number, errors = 0) => ({
  requests: { average, total: average * 10 },
  latency: { p50, p99 },
  errors,
  timeouts: 0,
  non2xx: 0
})

describe("bench measures", () => {
  it("combines rounds: throughput averaged, the worst round's percentiles, errors summed", () => {
    const c = combine([result(1000, 3, 9), result(3000, 2, 15, 2)])
    expect(c.requests).toEqual({ average: 2000, total: 40_000 })
    expect(c.latency).toEqual({ p50: 3, p99: 15 })
    expect(c.errors).toBe(2)
  })

  it("reads a thread's wait for a core from its schedstat", () => {
    expect(schedstatWaitMillis("2871521 119687000 2\n")).toBeCloseTo(119.687)
    expect(schedstatWaitMillis("garbage")).toBe(0)
    const own = coreWaitMillis(process.pid)
    expect(Number.isFinite(own) && own >= 0).toBe(true)
    expect(coreWaitMillis(undefined)).toBe(0)
    expect(coreWaitMillis(2 ** 22 + 7)).toBe(0)
  })

  it("takes the ratio of each back-to-back pair, and their median", () => {
    // a slow spell halves both sides of the second pair: its ratio is the others'
    const bare = [result(20_000, 1, 5), result(10_000, 1, 5), result(20_000, 1, 5), result(0, 0, 0)]
    const scan = [result(11_000, 2, 9), result(5_500, 4, 18), result(10_000, 2, 9), result(10, 1, 1)]
    expect(pairedRatios(bare, scan)).toEqual([0.55, 0.55, 0.5, 0])
    expect(median(pairedRatios(bare.slice(0, 3), scan.slice(0, 3)))).toBe(0.55)
    expect(median([0.5, 0.7, 0.1, 0.6])).toBeCloseTo(0.55)
    expect(median([])).toBeNaN()
    // the totals' ratio is what the slow pair pulls down: 26,500 / 50,000
    expect(combine(scan.slice(0, 3)).requests.average / combine(bare.slice(0, 3)).requests.average).toBeCloseTo(0.53)
  })

  it("reads this process's CPU time and the machine's ticks from /proc", () => {
    let x = 0
    for (let i = 0; i < 5e7; i++) x += i
    expect(x).toBeGreaterThan(0)
    expect(cpuMillis(process.pid)).toBeGreaterThan(0)
    expect(cpuMillis(undefined)).toBe(0)
    const t = machineTicks()
    expect(t.total).toBeGreaterThan(t.busy)
    expect(t.busy).toBeGreaterThan(0)
  })

  it("reads the CPU time of this process's exited children", async () => {
    const before = exitedChildrenMillis()
    // a child that burns ~0.3 s of CPU, then exits and is waited for
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ["-e", "const t = Date.now(); while (Date.now() - t < 300) {}"], (e) =>
        e === null ? resolve() : reject(e)
      )
    )
    expect(exitedChildrenMillis() - before).toBeGreaterThanOrEqual(150)
  })

  it("reads a process's JavaScript thread's CPU time apart from its other threads'", () => {
    let x = 0
    for (let i = 0; i < 5e7; i++) x += i
    expect(x).toBeGreaterThan(0)
    const main = mainThreadMillis(process.pid)
    // read after the main thread's: the process's total is at least the thread's
    expect(main).toBeGreaterThan(0)
    expect(cpuMillis(process.pid)).toBeGreaterThanOrEqual(main)
    expect(mainThreadMillis(undefined)).toBe(0)
    expect(mainThreadMillis(2 ** 22 + 7)).toBe(0)
  })

  describe("the warm phase's verdict", () => {
    // 10 s of load: bare answered 300,000 requests on 9.0 s of its thread, the gateway 110,000 on 9.6 s
    const bare = {
      requests: 300_000,
      loadMs: 10_000,
      processMs: 9_800,
      mainMs: 9_000,
      busy: 0.97,
      loadGeneratorMs: 7_000
    }
    const scan = {
      requests: 110_000,
      loadMs: 10_000,
      processMs: 11_800,
      mainMs: 9_600,
      busy: 0.98,
      loadGeneratorMs: 4_500
    }

    it("prints each side's JavaScript time per request apart from its other threads'", () => {
      const [threads] = warmVerdict(bare, scan)
      expect(threads).toContain("bare 30.0 µs (the bench process; its other threads 2.7 µs)")
      expect(threads).toContain("scan 87.3 µs (the gateway; its other threads — V8's GC, compiler — 20.0 µs)")
    })

    it("names a saturated gateway thread and the ratio two saturated threads allow", () => {
      const [, verdict] = warmVerdict(bare, scan)
      expect(verdict).toMatch(
        /^warm limited by: CPU — the gateway's JavaScript thread is saturated: it used 0\.96 of a core/
      )
      expect(verdict).toContain("bare over scan: 0.344")
      expect(verdict).not.toContain("held back")
    })

    it("says when bare's thread was not saturated (held back by something else)", () => {
      const [, verdict] = warmVerdict({ ...bare, mainMs: 6_000, processMs: 6_500 }, scan)
      expect(verdict).toContain("used 0.60 of a core")
      expect(verdict).toContain("not saturated: bare was held back by something else")
    })

    it("tells a busy machine from waiting when the gateway's thread is not saturated", () => {
      const [, busy] = warmVerdict(bare, { ...scan, mainMs: 6_000, busy: 0.9 })
      expect(busy).toMatch(/^warm limited by: CPU — the machine's cores are 90 % busy/)
      const [, waiting] = warmVerdict(bare, { ...scan, mainMs: 3_000, busy: 0.4 })
      expect(waiting).toMatch(
        /^warm limited by: waiting, not CPU — the gateway's JavaScript thread used 0\.30 of a core/
      )
    })
  })
})

describe("the warm phase's answer baseline", () => {
  it("replays the headers the server set, not those node:http adds to every answer", () => {
    const headers = replayedHeaders(
      new Headers({
        "Content-Type": "application/json",
        "content-length": "1348",
        "x-frame-options": "DENY",
        "x-request-id": "b7651ff1-15a8-4d14-a5bd-8c5ea80f8024",
        date: "Mon, 07 Dec 2026 11:14:18 GMT",
        connection: "keep-alive",
        "keep-alive": "timeout=65"
      })
    )
    expect(headers).toEqual({
      "content-type": "application/json",
      "content-length": "1348",
      "x-frame-options": "DENY",
      "x-request-id": "b7651ff1-15a8-4d14-a5bd-8c5ea80f8024"
    })
  })

  it("says what the answer's bytes cost bare and where the scan stands against them", () => {
    const l = answerBaselineLine(30_000, 22_500, 11_250, 1348, 9)
    expect(l).toContain("a 1348 B body and the gateway's 9 headers")
    expect(l).toContain("22500 req/s, 75 % of bare's rate")
    expect(l).toContain("the scan 0.500 of it")
  })
})
