import { describe, expect, it } from "vitest"
import { counterSum, histogramQuantile } from "./Exposition.js"

describe("reading a metrics exposition", () => {
  it("sums a counter's samples that carry the labels asked for", () => {
    const text = [
      "# HELP brandme_cache_requests_total Cache look-ups",
      'brandme_cache_requests_total{cache="scan_answer",result="hit"} 40',
      'brandme_cache_requests_total{cache="scan_answer",result="miss"} 7',
      'brandme_cache_requests_total{cache="other",result="miss"} 100',
      'brandme_cache_requests_total_other{cache="scan_answer",result="miss"} 5'
    ].join("\n")
    expect(counterSum(text, "brandme_cache_requests_total", { cache: "scan_answer", result: "miss" })).toBe(7)
    expect(counterSum(text, "brandme_cache_requests_total", { cache: "scan_answer" })).toBe(47)
    expect(counterSum(text, "brandme_cache_requests_total", { result: "miss" })).toBe(107)
  })

  it("reads a histogram's quantiles over what it observed between two expositions, its matching series summed", () => {
    const exposition = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
      ["0.01", "0.05", "0.1", "+Inf"]
        .flatMap((le, i) => [
          `t_seconds_bucket{service="gateway",callee="knowledge",stage="waited",le="${le}"} ${a[i]}`,
          `t_seconds_bucket{service="gateway",callee="policy",stage="waited",le="${le}"} ${b[i]}`
        ])
        .join("\n")
    // knowledge: 100 calls between the two, 50 under 10 ms, 40 more under 50 ms, 9 more under 100 ms, 1 above
    const before = exposition([7, 7, 7, 7], [0, 0, 0, 0])
    const after = exposition([57, 97, 106, 107], [0, 0, 0, 4])
    const knowledge = { callee: "knowledge", stage: "waited" }
    expect(histogramQuantile(before, after, "t_seconds", knowledge, 0.5)).toBeCloseTo(10, 6)
    expect(histogramQuantile(before, after, "t_seconds", knowledge, 0.7)).toBeCloseTo(30, 6)
    expect(histogramQuantile(before, after, "t_seconds", knowledge, 0.99)).toBeCloseTo(100, 6)
    // past the last finite bound: that bound
    expect(histogramQuantile(before, after, "t_seconds", { callee: "policy" }, 0.5)).toBe(100)
    // both callees summed (104 calls: the median, the 52nd, 2 of the 40 between 10 and 50 ms); nothing observed: undefined
    expect(histogramQuantile(before, after, "t_seconds", { stage: "waited" }, 0.5)).toBeCloseTo(12, 6)
    expect(histogramQuantile(after, after, "t_seconds", knowledge, 0.5)).toBeUndefined()
  })
})
