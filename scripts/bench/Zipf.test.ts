import { describe, expect, it } from "vitest"
import { makeZipf, permutation, seededRandom } from "./Zipf.js"

describe("Zipf sampler", () => {
  it("draws rank 1 as often as theory says (s = 1.1 over a million)", () => {
    const zipf = makeZipf(1_000_000, 1.1, seededRandom(7))
    const draws = 200_000
    const counts = new Map<number, number>()
    for (let i = 0; i < draws; i++) {
      const k = zipf.draw()
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
    // H(1e6, 1.1) ≈ 8.07, so rank 1 has p ≈ 0.124; the binomial's sd at 200k draws is ≈ 0.0007
    const p1 = zipf.probability(1)
    expect(p1).toBeGreaterThan(0.12)
    expect(p1).toBeLessThan(0.13)
    expect(Math.abs((counts.get(1) ?? 0) / draws - p1)).toBeLessThan(0.004)
    // rank 2 is 2^-1.1 as likely as rank 1, rank 10 is 10^-1.1 as likely
    expect(Math.abs((counts.get(2) ?? 0) / draws - p1 * 2 ** -1.1)).toBeLessThan(0.003)
    expect(Math.abs((counts.get(10) ?? 0) / draws - p1 * 10 ** -1.1)).toBeLessThan(0.002)
    // the tail is reached: ranks beyond 100,000 hold ≈ 1 - H(1e5)/H(1e6) ≈ 8% of the mass
    let tail = 0
    for (const [k, c] of counts) if (k > 100_000) tail += c
    let head = 0
    for (let k = 1; k <= 100_000; k++) head += zipf.probability(k)
    expect(Math.abs(tail / draws - (1 - head))).toBeLessThan(0.005)
    for (const k of counts.keys()) {
      expect(k).toBeGreaterThanOrEqual(1)
      expect(k).toBeLessThanOrEqual(1_000_000)
    }
  })

  it("is uniform for s near 0 and repeatable for one seed", () => {
    const a = makeZipf(10, 1.1, seededRandom(42))
    const b = makeZipf(10, 1.1, seededRandom(42))
    expect(Array.from({ length: 50 }, a.draw)).toEqual(Array.from({ length: 50 }, b.draw))
    const flat = makeZipf(4, 1e-9, seededRandom(1))
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 40_000; i++) counts[flat.draw() - 1]! += 1
    for (const c of counts) expect(Math.abs(c / 40_000 - 0.25)).toBeLessThan(0.01)
  })

  it("refuses an empty range or a non-positive exponent", () => {
    expect(() => makeZipf(0, 1.1, Math.random)).toThrow(RangeError)
    expect(() => makeZipf(10, 0, Math.random)).toThrow(RangeError)
  })

  it("permutes every index exactly once", () => {
    const p = permutation(1000, seededRandom(3))
    expect(new Set(p).size).toBe(1000)
    expect(Math.max(...p)).toBe(999)
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })
})
