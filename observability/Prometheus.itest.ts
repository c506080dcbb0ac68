import type { ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { stringify } from "yaml"
import { demoGarments } from "../scripts/DemoData.js"
import { waitFor } from "../scripts/ops/topology/Infra.js"
import { HealthPaths, ServiceNames } from "../shared/ServiceCatalog.js"
import { freePort } from "../shared/testing/TestDatabase.js"
import { demoTag, startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"
import { checkData, copyRuleFiles, type DataCheck, driveTraffic, prometheusApi, startPrometheus } from "./promCheck.js"
import { localLabels, ScrapeTargets, targetOf } from "./targets.js"

/**
 * The local shape (`npm start`: every service in one process, scraped with the local config's labels,
 * observability/targets.ts) on a real Prometheus (Debian's package) while scans flow: every dashboard query
 * returns data, every rule evaluates and every recording rule records. The deployed shape (one process per
 * Deployment, the exporters, the ServiceMonitors' labels, alerts firing for real) is observability/Deployed.itest.ts.
 */
describe("dashboards and rules on a real Prometheus, local shape", () => {
  let platform: TestPlatform
  let prom: ChildProcess
  let work: string
  let data: DataCheck

  beforeAll(async () => {
    platform = await startTestPlatform({ label: "prom", services: ServiceNames, demoData: true })
    work = mkdtempSync(join(tmpdir(), "brandme-prom-"))
    const listen = `127.0.0.1:${await freePort()}`
    writeFileSync(
      join(work, "prometheus.yml"),
      stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: copyRuleFiles(work),
        scrape_configs: ServiceNames.map((name) => ({
          job_name: name,
          honor_labels: true,
          metrics_path: HealthPaths.metrics,
          static_configs: [{ targets: [new URL(platform.metricsUrl(name)).host], labels: localLabels(targetOf(name)) }]
        }))
      })
    )
    prom = startPrometheus(join(work, "prometheus.yml"), join(work, "data"), listen)
    const api = prometheusApi(`http://${listen}`)
    await waitFor("prometheus", () => api.ready(), 30_000)
    await driveTraffic({
      scanUrl: `${platform.url("gateway")}/v1/scans`,
      tags: demoGarments.map((_, i) => demoTag(i)),
      healthUrls: ServiceNames.map((n) => `${platform.url(n)}${HealthPaths.ready}`),
      ms: 12_000
    })
    // the exporters and the chart-scraped targets are not run in the local test, and its calls are in-process
    data = await checkData(
      api,
      ScrapeTargets.filter((t) => t.tier !== "app").map((t) => t.job),
      true
    )
  }, 120_000)

  afterAll(async () => {
    prom?.kill("SIGTERM")
    await platform.close()
    rmSync(work, { recursive: true, force: true })
  })

  it("every rule expression evaluates and every recording rule records", () => {
    expect(data.rules).toBeGreaterThan(20)
    expect(data.ruleErrors).toEqual([])
    expect(data.unrecorded).toEqual([])
    // every series a rule reads exists (brandme_db_query_duration_seconds included: shared/layers/QueryTiming.ts)
    expect(data.ruleSeriesMissing).toEqual([])
  })

  it("every dashboard query parses and returns data", () => {
    expect(data.dashboardQueries).toBeGreaterThan(30)
    expect(data.dashboardErrors).toEqual([])
    expect(data.dashboardEmpty, "queries without data").toEqual([])
    // the gateway's internal-call panel: its calls are in-process here, so it has no data (Deployed.itest has)
    expect(data.dashboardHttpCallsOnly).toHaveLength(2)
  })
})
