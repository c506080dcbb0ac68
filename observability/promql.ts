/**
 * PromQL built from the metric catalog: the selectors and expressions that alert rules, SLOs and
 * dashboards share, so a label or a window is spelled once.
 */
import { MetricCatalog } from "../shared/telemetry/MetricCatalog.js"

/** One label matcher, e.g. `eq("service", "gateway")` → `service="gateway"`. */
export const eq = (label: string, value: string): string => `${label}="${value}"`
export const re = (label: string, value: string): string => `${label}=~"${value}"`
export const nre = (label: string, value: string): string => `${label}!~"${value}"`

/** `metric{m1,m2}`; a metric with no matchers is written bare. */
export const sel = (metric: string, matchers: ReadonlyArray<string> = []): string =>
  matchers.length === 0 ? metric : `${metric}{${matchers.join(",")}}`

const by = (labels: ReadonlyArray<string>): string => (labels.length === 0 ? "" : ` by (${labels.join(", ")})`)

export const sumRate = (
  metric: string,
  matchers: ReadonlyArray<string>,
  window: string,
  groupBy: ReadonlyArray<string> = []
) => `sum${by(groupBy)} (rate(${sel(metric, matchers)}[${window}]))`

const M = MetricCatalog

export const Metrics = {
  httpRequests: M.httpRequestsTotal.name,
  httpDurationBucket: `${M.httpRequestDuration.name}_bucket`,
  httpDurationCount: `${M.httpRequestDuration.name}_count`,
  scans: M.scansTotal.name,
  chainTx: M.blockchainTransactionsTotal.name,
  auditViolations: M.auditIntegrityViolationsTotal.name,
  queueDepth: M.queueDepth.name,
  queueWorkers: M.queueWorkers.name,
  escalations: M.policyEscalationsTotal.name,
  dbPool: M.dbPoolConnections.name,
  dbQueryBucket: `${M.dbQueryDuration.name}_bucket`,
  internalCallBucket: `${M.internalCallDuration.name}_bucket`
} as const

/** 5xx answers are server errors; 4xx are the client's and do not count against us. */
export const ServerError = re("status", "5..")

/** The scan API: the public `POST /v1/scans` route of the gateway. */
export const ScanApi = [eq("service", "gateway"), eq("route", "/v1/scans")] as const

export const httpRequestRate = (matchers: ReadonlyArray<string>, window: string, groupBy: ReadonlyArray<string>) =>
  sumRate(Metrics.httpRequests, matchers, window, groupBy)

/**
 * `errors / total` that reads 0, not "no data", while there are requests but no errors: a 5xx series
 * only exists after the first 5xx, so the numerator falls back to `total * 0` label set by label set.
 */
export const zeroFilledRatio = (errors: string, total: string): string =>
  `(\n${errors}\nor\n${total} * 0\n)\n/\n${total}`

/** Share of requests answered with a 5xx. */
export const httpErrorRatio = (matchers: ReadonlyArray<string>, window: string, groupBy: ReadonlyArray<string>) =>
  zeroFilledRatio(
    sumRate(Metrics.httpRequests, [...matchers, ServerError], window, groupBy),
    httpRequestRate(matchers, window, groupBy)
  )

export const httpLatencyQuantile = (
  quantile: number,
  matchers: ReadonlyArray<string>,
  window: string,
  groupBy: ReadonlyArray<string>
) => `histogram_quantile(${quantile}, ${sumRate(Metrics.httpDurationBucket, matchers, window, [...groupBy, "le"])})`

/** Chain transactions that failed, as a share of those that reached an outcome. */
export const chainFailureRatio = (window: string, groupBy: ReadonlyArray<string>) =>
  `${sumRate(Metrics.chainTx, [eq("status", "failed")], window, groupBy)}\n/\n${sumRate(
    Metrics.chainTx,
    [re("status", "confirmed|failed")],
    window,
    groupBy
  )}`
