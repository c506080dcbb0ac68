import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { HealthPaths, MetricsPorts, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { checkExpr } from "./catalogCheck.js"
import { DashboardUids, DoNotEdit, allDashboards } from "./grafana/dashboards.js"
import { generatedFiles, observabilityDir } from "./generate.js"
import { RuleFiles } from "./prometheus/scrape.js"
import { arr, readYaml, rec, str, strs } from "./testSupport.js"
import { Backends, DataSourceUids, Exporters } from "./topology.js"

describe("generated files", () => {
  it.each([...generatedFiles().entries()])(
    "%s is committed and up to date (npm run gen:observability)",
    (path, content) => {
      const full = join(observabilityDir, path)
      expect(existsSync(full), `${path} is missing`).toBe(true)
      expect(readFileSync(full, "utf8")).toBe(content)
      expect(content).toContain("DO NOT EDIT")
    }
  )

  it("are deterministic", () => {
    expect([...generatedFiles().entries()]).toEqual([...generatedFiles().entries()])
  })
})

interface Target {
  readonly dashboard: string
  readonly panel: string
  readonly expr: string
  readonly uid: string
}

const targets = (): ReadonlyArray<Target> =>
  allDashboards().flatMap(({ dashboard: d }) =>
    (d.panels ?? []).flatMap((p) => {
      const panel = "targets" in p && Array.isArray(p.targets) ? p : undefined
      return (panel?.targets ?? []).map((t, i) => ({
        dashboard: d.uid ?? "",
        panel: "title" in p ? String(p.title) : "",
        expr: str(t, "expr"),
        uid: str(panel, "targets", i, "datasource", "uid")
      }))
    })
  )

describe("dashboards", () => {
  const dashboards = allDashboards().map((d) => d.dashboard)

  it("have fixed, unique UIDs: the overview and one RED dashboard per service", () => {
    expect(dashboards.map((d) => d.uid)).toEqual([DashboardUids.overview, ...ServiceNames.map(DashboardUids.red)])
    expect(DashboardUids.red("gateway")).toBe("brandme-red-gateway")
  })

  it.each(dashboards.map((d) => [d.uid, d] as const))("%s: DO NOT EDIT, 30 s refresh, UTC", (_, d) => {
    expect(d.description).toBe(DoNotEdit)
    expect(d.refresh).toBe("30s")
    expect(d.timezone).toBe("utc")
    expect(new Set((d.panels ?? []).map((p) => p.id)).size).toBe((d.panels ?? []).length)
  })

  it("the overview has the guide's panels", () => {
    const overview = dashboards[0]
    const panels = (overview?.panels ?? []).map((p) => [p.type, "title" in p ? p.title : ""])
    expect(panels).toContainEqual(["timeseries", "Scan request rate"])
    expect(panels).toContainEqual(["gauge", "Error rate (5xx share, all services)"])
    expect(panels).toContainEqual(["timeseries", "Scan duration p50 / p95 / p99"])
    expect(panels).toContainEqual(["timeseries", "Blockchain transactions"])
    for (const s of ServiceNames) expect(panels).toContainEqual(["stat", s])
  })

  it("RED dashboards show rate, errors and duration of their service", () => {
    for (const s of ServiceNames) {
      const exprs = targets()
        .filter((t) => t.dashboard === DashboardUids.red(s))
        .map((t) => t.expr)
      expect(exprs.some((e) => e.includes(`brandme_http_requests_total{service="${s}"}`))).toBe(true)
      expect(exprs.some((e) => e.includes('status=~"5.."'))).toBe(true)
      expect(exprs.some((e) => e.includes("histogram_quantile(0.99,"))).toBe(true)
    }
  })

  it("query only catalog metrics and their labels", () => {
    const problems = targets().flatMap((t) => checkExpr(t.expr).map((p) => `${t.dashboard}/${t.panel}: ${p}`))
    expect(problems).toEqual([])
  })

  it("use only provisioned data source UIDs", () => {
    const provisioned = arr(readYaml("grafana/provisioning/datasources/datasources.yml"), "datasources").map((_, i) =>
      str(readYaml("grafana/provisioning/datasources/datasources.yml"), "datasources", i, "uid")
    )
    const used = new Set(targets().map((t) => t.uid))
    expect(used).toEqual(new Set([DataSourceUids.prometheus]))
    for (const uid of used) expect(provisioned).toContain(uid)
  })
})

describe("prometheus.yml", () => {
  const cfg = readYaml("prometheus/prometheus.yml")
  const jobs = arr(cfg, "scrape_configs").map((_, i) => rec(cfg, "scrape_configs", i))
  const target = (job: string) => {
    const j = jobs.find((x) => x.job_name === job)
    return j === undefined
      ? undefined
      : {
          path: str(j, "metrics_path"),
          honorLabels: j.honor_labels === true,
          targets: strs(j, "static_configs", 0, "targets"),
          labels: rec(j, "static_configs", 0, "labels")
        }
  }

  it("scrapes every 15 s and loads the rule files", () => {
    expect(str(cfg, "global", "scrape_interval")).toBe("15s")
    expect(strs(cfg, "rule_files")).toEqual([...RuleFiles])
    expect(strs(cfg, "alerting", "alertmanagers", 0, "static_configs", 0, "targets")).toEqual([
      `127.0.0.1:${Backends.alertmanager.port}`
    ])
  })

  it.each(ServiceNames.map((s) => [s]))("has a job for %s at its catalog metrics port", (s) => {
    expect(target(s)).toEqual({
      path: HealthPaths.metrics,
      honorLabels: true,
      targets: [`127.0.0.1:${MetricsPorts[s]}`],
      labels: { service: s, tier: "app", namespace: "brandme" }
    })
    expect(MetricsPorts[s]).not.toBe(Services[s].port)
  })

  it("scrapes the exporters the guide names and the observability stack", () => {
    for (const [name, e] of Object.entries(Exporters)) expect(target(name)?.targets).toEqual([`127.0.0.1:${e.port}`])
    expect(Object.keys(Exporters)).toEqual([
      "postgres-exporter",
      "redis-exporter",
      "nats-exporter",
      "node-exporter",
      "cadvisor"
    ])
    expect(target("otel-collector")?.targets).toEqual([`127.0.0.1:${Backends.otelCollector.metricsExporterPort}`])
    expect(target("alertmanager")).toBeDefined()
    expect(target("prometheus")).toBeDefined()
  })
})
