/**
 * SLO specs → recording rules and multi-window multi-burn-rate alerts, in the sloth/pyrra style:
 * one error-ratio series per window, then one page and one ticket alert per SLO whose expression is
 * "long window AND short window above factor × budget", OR-ed over the two window pairs of that kind.
 */
import type { AlertSpec, RecordingRule, RuleGroup } from "../rules.js"
import { zeroFilledRatio } from "../promql.js"
import { BurnRateWindows, type BurnRateWindow, type SloSpec, errorBudget } from "./specs.js"

/** Every window an alert reads, shortest first. */
export const sloWindows = (): ReadonlyArray<string> => {
  const order = (w: string) => Number.parseInt(w, 10) * ({ m: 1, h: 60, d: 1440 }[w.slice(-1)] ?? 0)
  const all = new Set(BurnRateWindows.flatMap((w) => [w.short, w.long]))
  return [...all].sort((a, b) => order(a) - order(b))
}

export const errorRatioRecord = (window: string): string => `slo:sli_error:ratio_rate${window}`

const sloLabels = (slo: SloSpec): Record<string, string> => ({ slo: slo.name, service: slo.service })
const sloSel = (slo: SloSpec) => `{slo="${slo.name}"}`

const recordings = (slo: SloSpec): ReadonlyArray<RecordingRule> => {
  const labels = sloLabels(slo)
  const perWindow: Array<RecordingRule> = sloWindows().map((w) => ({
    record: errorRatioRecord(w),
    expr: zeroFilledRatio(slo.errorQuery(w), slo.totalQuery(w)),
    labels
  }))
  const period = `${slo.windowDays}d`
  const short = errorRatioRecord(sloWindows()[0] ?? "5m")
  const meta: Array<RecordingRule> = [
    { record: "slo:objective:ratio", expr: `vector(${slo.objective})`, labels },
    { record: "slo:error_budget:ratio", expr: `vector(${errorBudget(slo)})`, labels },
    { record: "slo:time_period:days", expr: `vector(${slo.windowDays})`, labels },
    {
      // averaging the short ratio avoids a 30-day range over the raw counters
      record: errorRatioRecord(period),
      expr: `sum_over_time(${short}${sloSel(slo)}[${period}])\n/\ncount_over_time(${short}${sloSel(slo)}[${period}])`,
      labels
    },
    {
      record: "slo:period_error_budget_remaining:ratio",
      expr: `1 - ${errorRatioRecord(period)}${sloSel(slo)} / on (slo, service) slo:error_budget:ratio${sloSel(slo)}`,
      labels
    }
  ]
  return [...perWindow, ...meta]
}

const burnCondition = (slo: SloSpec, w: BurnRateWindow): string => {
  const threshold = `(${w.factor} * ${errorBudget(slo)})`
  return `(\n  ${errorRatioRecord(w.long)}${sloSel(slo)} > ${threshold}\nand\n  ${errorRatioRecord(w.short)}${sloSel(slo)} > ${threshold}\n)`
}

const burnAlert = (slo: SloSpec, kind: BurnRateWindow["kind"]): AlertSpec => {
  const windows = BurnRateWindows.filter((w) => w.kind === kind)
  const severity = windows[0]?.severity ?? "warning"
  const pairs = windows.map((w) => `${w.long}/${w.short} ×${w.factor}`).join(" or ")
  return {
    alert: slo.alertName,
    expr: windows.map((w) => burnCondition(slo, w)).join("\nor\n"),
    severity,
    runbook: "slo-burn",
    labels: { ...sloLabels(slo), slo_alert: kind },
    summary: `${slo.name}: error budget ${kind === "page" ? "burning fast" : "burning steadily"} (${kind})`,
    description:
      `${slo.description}: the ${slo.objective * 100}% objective over ${slo.windowDays}d is burning its error budget ` +
      `(${pairs}). {{ $value | humanizePercentage }} of requests are failing the SLI.`
  }
}

/**
 * One group per SLO: recordings first, then the alerts that read them. In one group they are evaluated
 * in order, so an alert never reads the previous round's ratios (and promtool results are deterministic).
 */
export const sloRuleGroup = (slo: SloSpec): RuleGroup => ({
  name: `slo-${slo.name}`,
  recordings: recordings(slo),
  alerts: [burnAlert(slo, "page"), burnAlert(slo, "ticket")]
})
