import { describe, expect, it } from "vitest"
import { combine, cpuMillis, machineTicks, mainThreadMillis } from "./Measure.js"

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
})
