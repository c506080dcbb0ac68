import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parse, stringify } from "yaml"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoGarments } from "../scripts/DemoData.js"
import { HealthPaths, ServiceNames } from "../shared/ServiceCatalog.js"
import { freePort } from "../shared/testing/TestDatabase.js"
import { demoTag, startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"
import { observabilityDir } from "./generate.js"
import { localLabels, targetOf } from "./targets.js"

/**
 * A real Prometheus (Debian's package) scrapes the running platform while scans flow; every dashboard
 * query and every rule expression is then evaluated through Prometheus's HTTP API.
 */
const dashboardExprs = (): ReadonlyArray<string> => {
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

const ruleExprs = (): ReadonlyArray<string> => {
  const dir = join(observabilityDir, "prometheus", "rules")
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yml"))
    .flatMap((f) => {
      const doc = parse(readFileSync(join(dir, f), "utf8")) as { groups: Array<{ rules: Array<{ expr: string }> }> }
      return doc.groups.flatMap((g) => g.rules.map((r) => String(r.expr)))
    })
}

describe("dashboards and rules on a real Prometheus", () => {
  let platform: TestPlatform
  let prom: ChildProcess
  let promUrl: string
  let work: string

  beforeAll(async () => {
    platform = await startTestPlatform({ label: "prom", services: ServiceNames, demoData: true })
    const gateway = platform.url("gateway")
    work = mkdtempSync(join(tmpdir(), "brandme-prom-"))
    const promPort = await freePort()
    promUrl = `http://127.0.0.1:${promPort}`
    const rulesDir = join(observabilityDir, "prometheus", "rules")
    writeFileSync(
      join(work, "prometheus.yml"),
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: readdirSync(rulesDir).map((f) => join(rulesDir, f)),
        scrape_configs: ServiceNames.map((name) => ({
          job_name: name,
          honor_labels: true,
          metrics_path: HealthPaths.metrics,
          static_configs: [{ targets: [new URL(platform.metricsUrl(name)).host], labels: localLabels(targetOf(name)) }]
        }))
      })
    )
    prom = spawn(
      "prometheus",
      [
        `--config.file=${join(work, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(work, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`
      ],
      { stdio: "ignore" }
    )
    for (let i = 0; i < 120; i++) {
      const ok = await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false
      )
      if (ok) break
      await new Promise((r) => setTimeout(r, 250))
    }
    // traffic: scans of every garment from several regions, a bad request, and each service's health
    const regions = ["FR", "US-CA", "JP"]
    const t0 = Date.now()
    while (Date.now() - t0 < 12_000) {
      await Promise.all(
        demoGarments.map((_, i) =>
          fetch(`${gateway}/v1/scans`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ tag: demoTag(i), context: { region: regions[i % 3] } })
          }).then((r) => r.arrayBuffer())
        )
      )
      await fetch(`${gateway}/v1/scans`, { method: "POST", body: "{" }).then((r) => r.arrayBuffer())
      await Promise.all(
        ServiceNames.map((n) => fetch(`${platform.url(n)}${HealthPaths.ready}`).then((r) => r.arrayBuffer()))
      )
      await new Promise((r) => setTimeout(r, 250))
    }
  })

  afterAll(async () => {
    prom?.kill("SIGTERM")
    await platform.close()
    rmSync(work, { recursive: true, force: true })
  })

  const query = async (expr: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
    return (await res.json()) as { status: string; error?: string; data?: { result: Array<unknown> } }
  }

  it("every rule expression parses and evaluates", async () => {
    const exprs = ruleExprs()
    expect(exprs.length).toBeGreaterThan(20)
    for (const expr of exprs) {
      const r = await query(expr)
      expect(r.status, `${expr}: ${r.error}`).toBe("success")
    }
  })

  it("every dashboard query parses and returns data", async () => {
    const exprs = dashboardExprs()
    expect(exprs.length).toBeGreaterThan(30)
    const empty: Array<string> = []
    for (const expr of exprs) {
      const r = await query(expr.replaceAll("$__rate_interval", "1m").replaceAll("$__range", "5m"))
      expect(r.status, `${expr}: ${r.error}`).toBe("success")
      if ((r.data?.result.length ?? 0) === 0) empty.push(expr)
    }
    expect(empty, `queries without data:\n${empty.join("\n")}`).toEqual([])
  })
})
