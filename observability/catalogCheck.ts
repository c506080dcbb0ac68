/**
 * Checks a PromQL expression against the metric catalog: every `brandme_*` metric must be in the
 * catalog (histograms also as `_bucket`, `_sum`, `_count`) and every label it is matched or grouped
 * on must be one of that metric's labels (plus `le` for buckets and the scrape labels).
 */
import { type MetricSpec, allMetricSpecs } from "../shared/telemetry/MetricCatalog.js"

/** Labels Prometheus adds to every scraped series (see prometheus/scrape.ts). */
export const ScrapeLabels = ["job", "instance", "service", "tier"] as const

interface Resolved {
  readonly spec: MetricSpec
  readonly labels: ReadonlyArray<string>
}

const specs = new Map(allMetricSpecs().map((s) => [s.name, s]))

export const resolveMetric = (name: string): Resolved | undefined => {
  const exact = specs.get(name)
  if (exact !== undefined) return { spec: exact, labels: exact.labelNames }
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue
    const spec = specs.get(name.slice(0, -suffix.length))
    if (spec?.type !== "histogram") continue
    return { spec, labels: suffix === "_bucket" ? [...spec.labelNames, "le"] : spec.labelNames }
  }
  return undefined
}

const selectorRe = /\b(brandme_[a-zA-Z0-9_]+)\s*(\{([^}]*)\})?/g
const matcherRe = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g
const groupingRe = /\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g

/** The brandme metrics an expression reads. */
export const metricsIn = (expr: string): ReadonlyArray<string> => [...expr.matchAll(selectorRe)].map((m) => m[1] ?? "")

/** Problems found in one expression; empty when it agrees with the catalog. */
export const checkExpr = (expr: string): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const used: Array<Resolved> = []
  for (const m of expr.matchAll(selectorRe)) {
    const name = m[1] ?? ""
    const resolved = resolveMetric(name)
    if (resolved === undefined) {
      problems.push(`${name} is not in the metric catalog`)
      continue
    }
    used.push(resolved)
    for (const lm of (m[3] ?? "").matchAll(matcherRe)) {
      const label = lm[1] ?? ""
      if (!resolved.labels.includes(label) && !(ScrapeLabels as ReadonlyArray<string>).includes(label)) {
        problems.push(`${name} has no label ${label}`)
      }
    }
  }
  // grouping labels are checked only when every metric of the expression is ours
  const others = /\b(up|node_\w+|container_\w+|redis_\w+|pg_\w+|nats_\w+|process_\w+|slo:\w+)\b/.test(expr)
  if (used.length > 0 && !others) {
    const known = new Set([...used.flatMap((u) => u.labels), ...ScrapeLabels])
    for (const g of expr.matchAll(groupingRe)) {
      for (const label of (g[1] ?? "").split(",").map((l) => l.trim())) {
        if (label !== "" && !known.has(label))
          problems.push(`grouping label ${label} is on none of ${metricsIn(expr).join(", ")}`)
      }
    }
  }
  return problems
}
