/** Reading the services' metrics as Prometheus exposes them (the text of a /metrics port), for tests and benches. */

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
