import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { dnsName, readObservabilityFiles, rebasePaths, rewriteHosts } from "./observabilityFiles.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "brandme-obs-"))

describe("readObservabilityFiles", () => {
  it("works on a folder with nothing in it yet", () => {
    expect(readObservabilityFiles(tmp())).toEqual({
      rules: [],
      dashboards: [],
      loki: undefined,
      tempo: undefined,
      otelCollector: undefined,
      alertmanager: undefined,
      grafanaDatasources: []
    })
  })

  it("takes rule files (with groups) and dashboards, skips promtool test files", () => {
    const root = tmp()
    fs.mkdirSync(path.join(root, "prometheus", "rules"), { recursive: true })
    fs.mkdirSync(path.join(root, "grafana", "dashboards"), { recursive: true })
    fs.writeFileSync(
      path.join(root, "prometheus", "rules", "Service_Health.yml"),
      "groups:\n  - name: a\n    rules: []\n"
    )
    fs.writeFileSync(path.join(root, "prometheus", "rules", "x.test.yml"), "rule_files: [a.yml]\ntests: []\n")
    fs.writeFileSync(path.join(root, "grafana", "dashboards", "overview.json"), '{"uid":"o"}')
    const files = readObservabilityFiles(root)
    expect(files.rules.map((r) => [r.name, r.groups.length])).toEqual([["service-health", 1]])
    expect(files.dashboards.map((d) => [d.name, d.json])).toEqual([["overview", '{"uid":"o"}']])
  })

  it("refuses a dashboard that is not JSON", () => {
    const root = tmp()
    fs.mkdirSync(path.join(root, "grafana", "dashboards"), { recursive: true })
    fs.writeFileSync(path.join(root, "grafana", "dashboards", "broken.json"), "{")
    expect(() => readObservabilityFiles(root)).toThrow(/broken.json is not valid JSON/)
  })
})

describe("rewriteHosts", () => {
  it("maps compose host names to cluster DNS, keeping scheme, port and path", () => {
    const hosts = { tempo: "tempo.observability.svc.cluster.local", loki: "loki.observability.svc.cluster.local" }
    expect(
      rewriteHosts(
        { a: "tempo:4317", b: ["http://loki:3100/otlp"], c: "0.0.0.0:4317", d: "http://grafana:3000", e: 5 },
        hosts
      )
    ).toEqual({
      a: "tempo.observability.svc.cluster.local:4317",
      b: ["http://loki.observability.svc.cluster.local:3100/otlp"],
      c: "0.0.0.0:4317",
      d: "http://grafana:3000",
      e: 5
    })
  })

  it("maps a compose port a chart fixes differently; moves paths onto another volume", () => {
    const hosts = { tempo: "tempo.observability.svc.cluster.local" }
    expect(rewriteHosts(["http://tempo:3200", "tempo:4317"], hosts, { tempo: { 3200: 3100 } })).toEqual([
      "http://tempo.observability.svc.cluster.local:3100",
      "tempo.observability.svc.cluster.local:4317"
    ])
    expect(
      rebasePaths({ a: "/loki/chunks", b: ["/loki"], c: "/lokiother", d: "/etc/loki" }, "/loki", "/var/loki")
    ).toEqual({
      a: "/var/loki/chunks",
      b: ["/var/loki"],
      c: "/lokiother",
      d: "/etc/loki"
    })
  })

  it("names are DNS-1123", () => {
    expect(dnsName("/x/SLO_Burn Rates.yaml")).toBe("slo-burn-rates")
  })
})
