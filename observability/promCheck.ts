/**
 * What the real-Prometheus tests share (observability/Prometheus.itest.ts on the in-process platform,
 * observability/Deployed.itest.ts on the multi-process topology): the dashboards' queries and the rules as
 * committed, rule files copied with every `for:` cut (the test's copy only), Prometheus' HTTP API, traffic
 * through the gateway, and the check that every dashboard query and every rule has data behind it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { resolveMetric } from "./catalogCheck.js"
import { observabilityDir } from "./generate.js"
import { type Matcher, satisfies, selectorsIn } from "./selectors.js"
import { LocalNamespaces, ScrapeTargets, TargetLabels } from "./targets.js"

export const PrometheusBin = "/usr/bin/prometheus"

/** Every distinct `expr` of every panel target of every committed dashboard. */
export const dashboardExprs = (): ReadonlyArray<string> => {
  const dir = join(observabilityDir, "grafana", "dashboards")
  const out = new Set<string>()
  const walk = (p: { targets?: Array<{ expr?: string }>; panels?: Array<unknown> }) => {
    for (const t of p.targets ?? []) if (typeof t.expr === "string") out.add(t.expr)
    for (const c of p.panels ?? []) walk(c as typeof p)
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")))
    walk(JSON.parse(readFileSync(join(dir, f), "utf8")))
  return [...out]
}

/** Grafana's variables as a query sent straight to Prometheus reads them. */
export const asPromQL = (dashboardExpr: string): string =>
  dashboardExpr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "5m")

export interface Rule {
  readonly file: string
  readonly expr: string
  readonly record?: string
  readonly alert?: string
}

const rulesDir = join(observabilityDir, "prometheus", "rules")
const ruleFileNames = () => readdirSync(rulesDir).filter((f) => f.endsWith(".yml"))

export const committedRules = (): ReadonlyArray<Rule> =>
  ruleFileNames().flatMap((file) => {
    const doc = parse(readFileSync(join(rulesDir, file), "utf8")) as {
      groups: Array<{ rules: Array<{ expr: string; record?: string; alert?: string }> }>
    }
    return doc.groups.flatMap((g) =>
      g.rules.map((r) => ({
        file,
        expr: String(r.expr),
        ...(r.record === undefined ? {} : { record: r.record }),
        ...(r.alert === undefined ? {} : { alert: r.alert })
      }))
    )
  })

/**
 * The committed rule files copied into `dir`, every alert's `for:` replaced by `forOverride` when given (so a
 * test need not wait the minutes an alert holds in production). Returns the copies' paths.
 */
export const copyRuleFiles = (dir: string, forOverride?: string): ReadonlyArray<string> =>
  ruleFileNames().map((f) => {
    const text = readFileSync(join(rulesDir, f), "utf8")
    const out = join(dir, f)
    writeFileSync(out, forOverride === undefined ? text : text.replace(/^(\s+)for: \S+$/gm, `$1for: ${forOverride}`))
    return out
  })

export const startPrometheus = (configFile: string, dataDir: string, listen: string): ChildProcess =>
  spawn(
    PrometheusBin,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=${listen}`],
    { stdio: "ignore" }
  )

export interface Sample {
  readonly metric: Record<string, string>
  readonly value: [number, string]
}

export interface QueryResult {
  readonly status: string
  readonly error?: string
  readonly data?: { readonly result: ReadonlyArray<Sample> }
}

export interface ActiveAlert {
  readonly labels: Record<string, string>
  readonly state: "pending" | "firing" | "inactive"
  readonly activeAt?: string
}

export const prometheusApi = (baseUrl: string) => {
  const json = async <A>(path: string): Promise<A> => {
    const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(10_000) })
    return (await res.json()) as A
  }
  return {
    ready: async () => (await fetch(`${baseUrl}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok,
    query: (expr: string) => json<QueryResult>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    /** the rule manager's alerts (pending and firing) */
    alerts: async () => (await json<{ data: { alerts: ReadonlyArray<ActiveAlert> } }>("/api/v1/alerts")).data.alerts,
    firing: async (alertname: string) =>
      (await json<{ data: { alerts: ReadonlyArray<ActiveAlert> } }>("/api/v1/alerts")).data.alerts
        .filter((a) => a.labels.alertname === alertname && a.state === "firing")
        .map((a) => a.labels),
    targets: async () =>
      (
        await json<{
          data: {
            activeTargets: ReadonlyArray<{
              labels: Record<string, string>
              scrapePool: string
              scrapeUrl: string
              health: string
              lastError: string
            }>
            droppedTargets: ReadonlyArray<{ discoveredLabels: Record<string, string> }>
          }
        }>("/api/v1/targets")
      ).data
  }
}
export type PrometheusApi = ReturnType<typeof prometheusApi>

/**
 * Scans through the gateway for `ms` (several regions, and a malformed body for a 4xx), each workload's
 * readiness probe hit, so every request metric, the scan pipeline's metrics and the health paths have samples.
 */
export const driveTraffic = async (o: {
  readonly scanUrl: string
  readonly tags: ReadonlyArray<string>
  readonly healthUrls: ReadonlyArray<string>
  readonly ms: number
}): Promise<{ scans: number; failed: number }> => {
  const regions = ["FR", "US-CA", "JP"]
  const t0 = Date.now()
  let scans = 0
  let failed = 0
  const send = (url: string, init?: RequestInit) =>
    fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.arrayBuffer().then(() => r.status),
      () => 0
    )
  while (Date.now() - t0 < o.ms) {
    const statuses = await Promise.all(
      o.tags.flatMap((tag, i) =>
        regions.map((region, j) =>
          send(o.scanUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tag, context: { region: regions[(i + j) % regions.length] ?? region } })
          })
        )
      )
    )
    scans += statuses.length
    failed += statuses.filter((s) => s !== 200).length
    await send(o.scanUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })
    await Promise.all(o.healthUrls.map((u) => send(u)))
    await new Promise((r) => setTimeout(r, 250))
  }
  return { scans, failed }
}

/**
 * The declared targets that can feed a selector: those exposing the metric (by prefix; `up` and `scrape_*`
 * every target) whose target labels satisfy the selector's matchers on job, tier, service and namespace.
 */
export const jobsFeeding = (metric: string, matchers: ReadonlyArray<Matcher> = []): ReadonlyArray<string> =>
  ScrapeTargets.filter(
    (t) => metric === "up" || metric.startsWith("scrape_") || t.metrics.some((p) => metric.startsWith(p))
  )
    .filter((t) => {
      const labels: Record<string, string | undefined> = {
        job: t.job,
        tier: t.tier,
        service: t.service,
        namespace: LocalNamespaces[t.namespace]
      }
      return matchers.every((m) => !(m.label in labels) || satisfies(m, labels[m.label]))
    })
    .map((t) => t.job)

/**
 * Labelled counters that have no series before their first event, which the tests do not produce (a broken
 * audit log; an escalation, which depends on the scanned garment's policy): absent, they are listed apart.
 */
export const EventCounters = ["brandme_audit_integrity_violations_total", "brandme_policy_escalations_total"] as const

/**
 * Metrics recorded only by a service calling another over HTTP (shared/http/Batch.ts): in the local shape
 * (`npm start`, one process) every call is in-process and they have no series.
 */
export const HttpCallMetrics = ["brandme_internal_call_duration_seconds"] as const

export interface DataCheck {
  /** dashboard queries Prometheus refused */
  readonly dashboardErrors: ReadonlyArray<string>
  /** dashboard queries that evaluate to nothing */
  readonly dashboardEmpty: ReadonlyArray<string>
  /** with `inProcessCalls`: the dashboard queries of HttpCallMetrics only, empty as they must be */
  readonly dashboardHttpCallsOnly: ReadonlyArray<string>
  readonly dashboardQueries: number
  /** rule expressions Prometheus refused */
  readonly ruleErrors: ReadonlyArray<string>
  /** recording rules with no recorded series */
  readonly unrecorded: ReadonlyArray<string>
  /**
   * series a rule reads that are absent, by metric name with only its target labels (job, tier, service,
   * namespace) kept: a metric the rule could never see. Those fed only by jobs in `notRun` are in `notRunHere`.
   */
  readonly ruleSeriesMissing: ReadonlyArray<string>
  readonly notRunHere: ReadonlyArray<string>
  /** EventCounters a rule reads that have not counted yet */
  readonly eventsNotSeen: ReadonlyArray<string>
  readonly rules: number
}

/**
 * Every dashboard query and every rule expression evaluated on a Prometheus that has scraped traffic: every
 * query must evaluate, every dashboard query must return data, every recording rule must have recorded,
 * and every series a rule selects must exist (by name and target labels; an alert's own condition need
 * not hold, so its whole expression may be empty).
 */
export const checkData = async (
  prom: PrometheusApi,
  notRun: ReadonlyArray<string> = [],
  inProcessCalls = false
): Promise<DataCheck> => {
  const dashboards = dashboardExprs()
  const dashboardErrors: Array<string> = []
  const dashboardEmpty: Array<string> = []
  const dashboardHttpCallsOnly: Array<string> = []
  const httpCallsOnly = (expr: string) =>
    selectorsIn(expr).every((sel) =>
      (HttpCallMetrics as ReadonlyArray<string>).includes(resolveMetric(sel.metric)?.spec.name ?? sel.metric)
    )
  for (const expr of dashboards) {
    const r = await prom.query(asPromQL(expr))
    if (r.status !== "success") dashboardErrors.push(`${expr}: ${r.error}`)
    else if ((r.data?.result.length ?? 0) === 0) {
      if (inProcessCalls && httpCallsOnly(expr)) dashboardHttpCallsOnly.push(expr)
      else dashboardEmpty.push(expr)
    }
  }
  const rules = committedRules()
  const ruleErrors: Array<string> = []
  const unrecorded: Array<string> = []
  const seriesMissing = new Set<string>()
  const notRunHere = new Set<string>()
  const eventsNotSeen = new Set<string>()
  for (const rule of rules) {
    const r = await prom.query(rule.expr)
    if (r.status !== "success") ruleErrors.push(`${rule.alert ?? rule.record}: ${r.error}`)
    if (rule.record !== undefined && ((await prom.query(rule.record)).data?.result.length ?? 0) === 0)
      unrecorded.push(rule.record)
    for (const s of selectorsIn(rule.expr)) {
      if (s.metric === "" || s.metric.includes(":")) continue
      const kept = s.matchers.filter((m) => (TargetLabels as ReadonlyArray<string>).includes(m.label))
      const selector = `${s.metric}{${kept.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(",")}}`
      if (((await prom.query(`count(${selector})`)).data?.result.length ?? 0) > 0) continue
      const feeders = jobsFeeding(s.metric, kept)
      if ((EventCounters as ReadonlyArray<string>).includes(s.metric)) eventsNotSeen.add(s.metric)
      else if (feeders.length > 0 && feeders.every((j) => notRun.includes(j))) notRunHere.add(selector)
      else seriesMissing.add(`${selector} (${rule.alert ?? rule.record})`)
    }
  }
  return {
    dashboardErrors,
    dashboardEmpty,
    dashboardHttpCallsOnly,
    dashboardQueries: dashboards.length,
    ruleErrors,
    unrecorded,
    ruleSeriesMissing: [...seriesMissing].sort(),
    notRunHere: [...notRunHere].sort(),
    eventsNotSeen: [...eventsNotSeen].sort(),
    rules: rules.length
  }
}
