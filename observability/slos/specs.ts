/**
 * The service level objectives, each declared once: objective, error and total queries, window.
 * `rules.ts` turns them into recording rules and multi-window multi-burn-rate alerts;
 * `docs/slo.md` explains them.
 */
import type { ServiceName } from "../../shared/ServiceCatalog.js"
import { Metrics, ScanApi, ServerError, eq, sel } from "../promql.js"

export interface SloSpec {
  /** kebab-case id, the `slo` label on every generated series */
  readonly name: string
  /** alert name shared by the page (critical) and ticket (warning) alerts */
  readonly alertName: string
  readonly service: ServiceName
  readonly description: string
  /** share of good events over the window, e.g. 0.999 */
  readonly objective: number
  /** compliance window in days */
  readonly windowDays: number
  /** rate of bad events over a range, e.g. `errorQuery("5m")` */
  readonly errorQuery: (range: string) => string
  /** rate of all events over a range */
  readonly totalQuery: (range: string) => string
}

/** Latency target for the scan API; must be a bucket boundary of `brandme_http_request_duration_seconds`. */
export const ScanLatencyTargetSeconds = 0.25

const scanTotal = (range: string) => `sum(rate(${sel(Metrics.httpRequests, ScanApi)}[${range}]))`
const scanDurationCount = (range: string) => `sum(rate(${sel(Metrics.httpDurationCount, ScanApi)}[${range}]))`

export const Slos: ReadonlyArray<SloSpec> = [
  {
    name: "scan-api-availability",
    alertName: "ScanApiAvailabilityBudgetBurn",
    service: "gateway",
    description: "Scan API requests (POST /v1/scans on the gateway) answered without a 5xx",
    objective: 0.999,
    windowDays: 30,
    errorQuery: (range) => `sum(rate(${sel(Metrics.httpRequests, [...ScanApi, ServerError])}[${range}]))`,
    totalQuery: scanTotal
  },
  {
    name: "scan-api-latency",
    alertName: "ScanApiLatencyBudgetBurn",
    service: "gateway",
    description: `Scan API requests answered within ${ScanLatencyTargetSeconds * 1000} ms`,
    objective: 0.99,
    windowDays: 30,
    // slow = all − fast: requests above the 250 ms bucket boundary
    errorQuery: (range) =>
      `(${scanDurationCount(range)} - sum(rate(${sel(Metrics.httpDurationBucket, [
        ...ScanApi,
        eq("le", String(ScanLatencyTargetSeconds))
      ])}[${range}])))`,
    totalQuery: scanDurationCount
  }
]

export type Severity = "critical" | "warning"

export interface BurnRateWindow {
  readonly severity: Severity
  /** sloth's vocabulary: a page wakes someone, a ticket waits for working hours */
  readonly kind: "page" | "ticket"
  readonly long: string
  readonly short: string
  /** how many times faster than "exactly spend the budget over the window" */
  readonly factor: number
}

/**
 * The multi-window multi-burn-rate table from the Google SRE workbook (ch. 5), as sloth and pyrra use it.
 * 14.4× for 1 h spends 2 % of a 30-day budget; 6× for 6 h 5 %; 3× for 1 d 10 %; 1× for 3 d 10 %.
 */
export const BurnRateWindows: ReadonlyArray<BurnRateWindow> = [
  { severity: "critical", kind: "page", long: "1h", short: "5m", factor: 14.4 },
  { severity: "critical", kind: "page", long: "6h", short: "30m", factor: 6 },
  { severity: "warning", kind: "ticket", long: "1d", short: "2h", factor: 3 },
  { severity: "warning", kind: "ticket", long: "3d", short: "6h", factor: 1 }
]

/** 1 − objective without floating-point noise (1 − 0.999 is 0.0010000000000000009 in JS). */
export const errorBudget = (slo: SloSpec): number => Number((1 - slo.objective).toFixed(10))
