import { beforeAll, describe, expect, it } from "vitest"
import { Charts } from "./charts.js"
import { checkFixture, loadFixture, MissingFixture } from "./offline/chartFixtures.js"
import { checkReleaseValues, checkSchema, helmReleases, type ReleaseValues } from "./offline/chartValues.js"
import { checkWiring, routeOf, wiring } from "./offline/chartWiring.js"
import { runStack } from "./offline/harness.js"
import { type K8sObject, kubernetesObjects } from "./offline/render.js"

// One program run (the Pulumi runtime is process-global); each case plants a fault in a copy.
let releases: ReadonlyArray<ReleaseValues>
let objects: ReadonlyArray<K8sObject>
beforeAll(async () => {
  const run = await runStack("prod")
  releases = helmReleases(run.resources)
  objects = kubernetesObjects(run.resources, true).flatMap(({ object }) => (object === undefined ? [] : [object]))
}, 120_000)

const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? Object(v) : {})

/** A deep copy of the rendered releases with `edit` applied to one release's values. */
const planted = (name: string, edit: (values: Record<string, unknown>) => void): ReadonlyArray<ReleaseValues> =>
  releases.map((r) => {
    const copy: ReleaseValues = structuredClone(r)
    if (r.name === name) edit(copy.values)
    return copy
  })

describe("chart fixtures", () => {
  it.each(Object.values(Charts).map((c) => [`${c.chart} ${c.version}`, c] as const))(
    "%s: fixture present, the pinned version, unchanged since charts:refresh",
    (_, ref) => {
      expect(checkFixture(ref)).toEqual([])
      expect(Object.keys(loadFixture(ref).defaults).length).toBeGreaterThan(3)
    }
  )

  it("a version bump without refreshed fixtures fails", () => {
    const bumped = { ...Charts.tempo, version: "1.15.0" }
    expect(() => loadFixture(bumped)).toThrow(MissingFixture)
    expect(checkFixture(bumped)).toEqual(["tempo 1.15.0: no fixture (run npm run charts:refresh)"])
    const release = releases.find((r) => r.name === "tempo")
    expect(release).toBeDefined()
    if (release !== undefined)
      expect(checkReleaseValues([{ ...release, chart: bumped }])).toEqual([
        expect.stringMatching(/^release tempo: no values fixture for tempo 1.15.0/)
      ])
  })

  it("kube-prometheus-stack carries its grafana subchart's values at the packaged version", () => {
    const f = loadFixture(Charts.kubePrometheusStack)
    expect(f.subcharts).toEqual({ grafana: "8.5.12" })
    expect(rec(rec(f.defaults.grafana).admin).existingSecret).toBe("")
  })
})

describe("the prod stack's chart values", () => {
  it("pass: known keys, chart types, chart schemas, wiring", () => {
    expect(releases.map((r) => r.name).sort()).toEqual(
      [
        "cert-manager",
        "external-secrets",
        "ingress-nginx",
        "kube-prometheus-stack",
        "loki",
        "nats",
        "otel-agent",
        "otel-collector",
        "tempo"
      ].sort()
    )
    expect(checkReleaseValues(releases)).toEqual([])
    expect(checkWiring(releases, objects)).toEqual([])
  })

  it("the checks see what they check: data sources, ServiceMonitors, storage paths", () => {
    const w = wiring(releases, objects)
    const grafana = w.rendered.find((r) => r.grafana !== undefined)?.grafana
    expect(grafana?.datasources.map((d) => [d.uid, d.url])).toEqual([
      ["brandme-prometheus", "http://prometheus-stack-prometheus.observability:9090/"],
      ["brandme-alertmanager", "http://prometheus-stack-alertmanager.observability:9093/"],
      ["brandme-loki", "http://loki.observability.svc.cluster.local:3100"],
      ["brandme-tempo", "http://tempo.observability.svc.cluster.local:3100"]
    ])
    expect(w.monitors.map((m) => m.where)).toEqual(
      expect.arrayContaining([
        "loki chart ServiceMonitor",
        "otel-collector chart ServiceMonitor",
        "ingress-nginx chart ServiceMonitor",
        "ServiceMonitor observability/tempo",
        "ServiceMonitor brandme/gateway"
      ])
    )
    const storage = Object.fromEntries(w.rendered.flatMap((r) => (r.storage ? [[r.release, r.storage]] : [])))
    expect(storage.loki?.mount).toBe("/var/loki")
    expect(storage.loki?.paths).toContain("/var/loki/compactor")
    expect(storage.tempo?.paths).toEqual(
      expect.arrayContaining(["/var/tempo/wal", "/var/tempo/blocks", "/var/tempo/generator/wal"])
    )
  })

  it("Tempo keeps traces 7 days, runs the metrics generator and listens where its Service sends traffic", () => {
    const tempo = releases.find((r) => r.name === "tempo")
    const config = String(tempo?.values.config)
    expect(config).toMatch(/block_retention: 168h/)
    expect(config).toMatch(/processors:\n\s+- service-graphs\n\s+- span-metrics/)
    expect(config).toMatch(/http_listen_port: 3100/)
    expect(config).toContain("http://prometheus-stack-prometheus.observability.svc.cluster.local:9090/api/v1/write")
  })

  it("Alertmanager sends Watchdog nowhere, criticals to PagerDuty", () => {
    const config = rec(rec(releases.find((r) => r.name === "kube-prometheus-stack")?.values.alertmanager).config)
    expect(routeOf(config.route, { alertname: "Watchdog", severity: "none" })).toBe("null")
    expect(routeOf(config.route, { alertname: "X", severity: "critical" })).toBe("pagerduty-critical")
  })
})

describe("the check fails on a planted fault", () => {
  it("an unknown key", () => {
    const bad = planted("ingress-nginx", (v) => {
      rec(v.controller).podDisruptionBudget = { enabled: true, minAvailable: 1 }
    })
    expect(checkReleaseValues(bad)).toEqual([
      "release ingress-nginx: ingress-nginx 4.11.3: controller.podDisruptionBudget is not a key of the chart's values.yaml"
    ])
  })

  it("a key of another chart (tempo-distributed's structuredConfig in tempo)", () => {
    const bad = planted("tempo", (v) => {
      v.tempo = { structuredConfig: {} }
    })
    expect(checkReleaseValues(bad)).toEqual([
      "release tempo: tempo 1.14.0: tempo.structuredConfig is not a key of the chart's values.yaml"
    ])
  })

  it("a wrong type", () => {
    const bad = planted("ingress-nginx", (v) => {
      rec(v.controller).replicaCount = "2"
    })
    expect(checkReleaseValues(bad)).toEqual([
      "release ingress-nginx: ingress-nginx 4.11.3: controller.replicaCount is string, the chart's default is number"
    ])
  })

  it("a value the chart's values.schema.json refuses", () => {
    const release = releases.find((r) => r.name === "otel-collector")
    expect(release).toBeDefined()
    if (release === undefined) return
    const bad = { ...release.values, mode: "sidecar" }
    expect(checkSchema(loadFixture(release.chart), bad)).toEqual([
      expect.stringMatching(
        /^opentelemetry-collector 0.110.0: schema: \/mode must be equal to one of the allowed values/
      )
    ])
  })

  it("a data source URL on a port the Service does not expose", () => {
    const bad = planted("kube-prometheus-stack", (v) => {
      const sources = rec(v.grafana).additionalDataSources
      const tempo = Array.isArray(sources) ? sources.map(rec).find((d) => d.uid === "brandme-tempo") : undefined
      if (tempo !== undefined) tempo.url = "http://tempo.observability.svc.cluster.local:3200"
    })
    expect(checkWiring(bad, objects)).toEqual([
      expect.stringMatching(/^data source brandme-tempo: .*:3200: Service tempo exposes 3100, .* not 3200$/)
    ])
  })

  it("a storage path off the volume", () => {
    const bad = planted("loki", (v) => {
      rec(rec(rec(v.loki).structuredConfig).compactor).working_directory = "/loki/compactor"
    })
    expect(checkWiring(bad, objects)).toEqual(["loki: storage path /loki/compactor is not on the volume at /var/loki"])
  })

  it("a process listening on a port its Service does not send to", () => {
    const bad = planted("loki", (v) => {
      rec(rec(rec(v.loki).structuredConfig).server).grpc_listen_port = 9097
    })
    expect(checkWiring(bad, objects)).toEqual(["Service loki: port grpc is 9096, the process listens on 9097"])
  })

  it("a ServiceMonitor port the Service lacks", () => {
    const bad = planted("otel-collector", (v) => {
      v.ports = { metrics: { enabled: false } }
    })
    expect(checkWiring(bad, objects)).toEqual([
      "otel-collector chart ServiceMonitor: port metrics is not a port of Service otel-collector"
    ])
  })

  it("a dashboard data source uid Grafana does not provision", () => {
    const bad = planted("kube-prometheus-stack", (v) => {
      rec(rec(rec(v.grafana).sidecar).datasources).uid = "prometheus"
    })
    expect(checkWiring(bad, objects)).toEqual(
      expect.arrayContaining([
        "ConfigMap observability/dashboard-brandme-overview: data source uid brandme-prometheus is not provisioned in Grafana"
      ])
    )
  })

  it("dashboards without the sidecar's label", () => {
    const bad = planted("kube-prometheus-stack", (v) => {
      rec(rec(rec(v.grafana).sidecar).dashboards).label = "grafana_dashboards"
    })
    expect(checkWiring(bad, objects)).toEqual(
      expect.arrayContaining([
        "ConfigMap observability/dashboard-brandme-overview: no label grafana_dashboards=1 (the Grafana sidecar's)"
      ])
    )
  })

  it("Watchdog routed to a receiver that notifies", () => {
    const bad = planted("kube-prometheus-stack", (v) => {
      const route = rec(rec(rec(v.alertmanager).config).route)
      route.routes = Array.isArray(route.routes) ? route.routes.slice(1) : []
    })
    expect(checkWiring(bad, objects)).toEqual([
      'release kube-prometheus-stack: {"alertname":"Watchdog"} goes to slack-warnings, the chart sends it nowhere'
    ])
  })
})
