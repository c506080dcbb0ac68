import { readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { checkExpr } from "./catalogCheck.js"
import { observabilityDir } from "./generate.js"
import { RunbookBaseUrl, RunbookNames } from "./runbooks.js"
import { sloRuleGroup, sloWindows } from "./slos/rules.js"
import { BurnRateWindows, Slos, errorBudget } from "./slos/specs.js"
import { allRules, arr, at, readYaml, rec, str, strs } from "./testSupport.js"

const alerts = allRules().filter((r) => typeof r.rule.alert === "string")
const testFiles = readdirSync(join(observabilityDir, "prometheus/tests")).filter((f) => f.endsWith(".test.yml"))

describe("alert rules", () => {
  it("exist in both rule files", () => {
    expect(alerts.filter((a) => a.file.endsWith("alerts.yml")).length).toBeGreaterThanOrEqual(15)
    expect(alerts.filter((a) => a.file.endsWith("slo.yml")).length).toBe(Slos.length * 2)
  })

  it.each(alerts.map((a) => [`${str(a.rule, "alert")}/${str(a.rule, "labels", "severity")}`, a] as const))(
    "%s has a severity, a summary and a runbook_url from the runbook list",
    (_, a) => {
      expect(["critical", "warning"]).toContain(str(a.rule, "labels", "severity"))
      expect(str(a.rule, "annotations", "summary").length).toBeGreaterThan(0)
      expect(str(a.rule, "annotations", "description").length).toBeGreaterThan(0)
      const url = str(a.rule, "annotations", "runbook_url")
      const name = url.startsWith(`${RunbookBaseUrl}/`) ? url.slice(RunbookBaseUrl.length + 1).replace(/\.md$/, "") : ""
      expect(RunbookNames as ReadonlyArray<string>).toContain(name)
      expect(url).toBe(`${RunbookBaseUrl}/${name}.md`)
    }
  )

  it("names only catalog metrics and their labels", () => {
    const problems = allRules().flatMap((r) => checkExpr(str(r.rule, "expr")).map((p) => `${r.group}: ${p}`))
    expect(problems).toEqual([])
  })

  it("the catalog check itself catches an unknown metric and a wrong label", () => {
    expect(checkExpr("rate(brandme_scan_total[5m])")).toEqual(["brandme_scan_total is not in the metric catalog"])
    expect(checkExpr('brandme_queue_depth{status="waiting"}')).toEqual(["brandme_queue_depth has no label status"])
    expect(checkExpr("sum by (route) (rate(brandme_scans_total[5m]))")).toHaveLength(1)
  })
})

interface Case {
  readonly file: string
  readonly alertname: string
  readonly firingSeverities: ReadonlyArray<string>
}

/** Every alert_rule_test: which severities of that alert it expects to fire (none = a silent case). */
const cases = (): ReadonlyArray<Case> =>
  testFiles.flatMap((file) => {
    const doc = readYaml(`prometheus/tests/${file}`)
    return arr(doc, "tests").flatMap((_, ti) => {
      const art = at(doc, "tests", ti)
      const list =
        typeof art === "object" && art !== null && "alert_rule_test" in art ? arr(art, "alert_rule_test") : []
      return list.map((_, ai) => {
        const c = rec(doc, "tests", ti, "alert_rule_test", ai)
        const exp = arr(c, "exp_alerts")
        return {
          file,
          alertname: str(c, "alertname"),
          firingSeverities: exp.map((_, ei) => str(c, "exp_alerts", ei, "exp_labels", "severity"))
        }
      })
    })
  })

describe("promtool rule tests", () => {
  const all = cases()

  it.each(alerts.map((a) => [str(a.rule, "alert"), str(a.rule, "labels", "severity")] as const))(
    "%s (%s) has a FIRING and a SILENT case",
    (alertname, severity) => {
      const mine = all.filter((c) => c.alertname === alertname)
      expect(
        mine.some((c) => c.firingSeverities.includes(severity)),
        "firing case"
      ).toBe(true)
      expect(
        mine.some((c) => !c.firingSeverities.includes(severity)),
        "silent case"
      ).toBe(true)
    }
  )

  it("test only alerts that exist, against rule files that exist", () => {
    const names = new Set(alerts.map((a) => str(a.rule, "alert")))
    expect(all.filter((c) => !names.has(c.alertname))).toEqual([])
    for (const file of testFiles) {
      for (const rf of strs(readYaml(`prometheus/tests/${file}`), "rule_files")) {
        expect(["../rules/alerts.yml", "../rules/slo.yml"]).toContain(rf)
      }
    }
  })
})

describe("SLO generator", () => {
  it("uses the SRE workbook burn-rate table", () => {
    expect(BurnRateWindows.map((w) => [w.long, w.short, w.factor, w.severity, w.kind])).toEqual([
      ["1h", "5m", 14.4, "critical", "page"],
      ["6h", "30m", 6, "critical", "page"],
      ["1d", "2h", 3, "warning", "ticket"],
      ["3d", "6h", 1, "warning", "ticket"]
    ])
    expect(sloWindows()).toEqual(["5m", "30m", "1h", "2h", "6h", "1d", "3d"])
  })

  it.each(Slos.map((s) => [s.name, s] as const))("%s: one ratio per window and two burn alerts", (_, slo) => {
    const group = sloRuleGroup(slo)
    const records = (group.recordings ?? []).map((r) => r.record)
    for (const w of sloWindows()) expect(records).toContain(`slo:sli_error:ratio_rate${w}`)
    const [page, ticket] = group.alerts ?? []
    expect(page?.severity).toBe("critical")
    expect(ticket?.severity).toBe("warning")
    const budget = errorBudget(slo)
    expect(page?.expr).toContain(`slo:sli_error:ratio_rate1h{slo="${slo.name}"} > (14.4 * ${budget})`)
    expect(page?.expr).toContain(`slo:sli_error:ratio_rate5m{slo="${slo.name}"} > (14.4 * ${budget})`)
    expect(page?.expr).toContain(`slo:sli_error:ratio_rate30m{slo="${slo.name}"} > (6 * ${budget})`)
    expect(ticket?.expr).toContain(`slo:sli_error:ratio_rate2h{slo="${slo.name}"} > (3 * ${budget})`)
    expect(ticket?.expr).toContain(`slo:sli_error:ratio_rate3d{slo="${slo.name}"} > (1 * ${budget})`)
    expect(page?.runbook).toBe("slo-burn")
  })

  it("declares the scan API objectives", () => {
    expect(Slos.map((s) => [s.name, s.objective, s.windowDays, errorBudget(s)])).toEqual([
      ["scan-api-availability", 0.999, 30, 0.001],
      ["scan-api-latency", 0.99, 30, 0.01]
    ])
    const [availability, latency] = Slos
    expect(availability?.errorQuery("5m")).toContain('status=~"5.."')
    expect(latency?.errorQuery("5m")).toContain('le="0.25"')
  })
})

describe("docs/slo.md", () => {
  it("describes every SLO and its alert", () => {
    const doc = readFileSync(join(observabilityDir, "../docs/slo.md"), "utf8")
    for (const slo of Slos) {
      expect(doc).toContain(`\`${slo.name}\``)
      expect(doc).toContain(`\`${slo.alertName}\``)
      expect(doc).toContain(`${Number((slo.objective * 100).toFixed(2))} %`)
    }
    for (const w of BurnRateWindows) expect(doc).toContain(`${w.long} / ${w.short}`)
  })
})

describe("runbooks", () => {
  it("lists the sixteen runbook names once each", () => {
    expect(new Set(RunbookNames).size).toBe(RunbookNames.length)
    expect(RunbookNames).toHaveLength(16)
  })
})
