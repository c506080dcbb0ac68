/**
 * Zipf-distributed ranks: P(rank k) ∝ 1 / k^s over k = 1..n. Sampling is by inverse transform over the
 * cumulative weights (one Float64Array of n, built once; a binary search per draw), seeded so a bench
 * run draws the same keys every time it is given the same seed.
 */
export interface Zipf {
  readonly n: number
  readonly s: number
  /** the probability of rank k (1-based) */
  readonly probability: (k: number) => number
  /** a rank in 1..n */
  readonly draw: () => number
}

/** mulberry32: a small, fast, seedable PRNG giving uniform numbers in [0, 1) */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const makeZipf = (n: number, s: number, random: () => number): Zipf => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf needs n ≥ 1, got ${n}`)
  if (!(s > 0)) throw new RangeError(`Zipf needs s > 0, got ${s}`)
  const cumulative = new Float64Array(n)
  let total = 0
  for (let k = 1; k <= n; k++) {
    total += k ** -s
    cumulative[k - 1] = total
  }
  const draw = () => {
    const u = random() * total
    // the first rank whose cumulative weight exceeds u
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cumulative[mid] ?? total) > u) hi = mid
      else lo = mid + 1
    }
    return lo + 1
  }
  return { n, s, probability: (k) => k ** -s / total, draw }
}

/** a random permutation of 0..n-1 (Fisher–Yates): which item each rank is, so popularity is not id order */
export const permutation = (n: number, random: () => number): Uint32Array => {
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = out[i] ?? 0
    out[i] = out[j] ?? 0
    out[j] = t
  }
  return out
}
