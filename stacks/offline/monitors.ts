/**
 * The scrape targets a rendered stack gives Prometheus, as the Prometheus Operator would build them: our
 * ServiceMonitors (Workload.ts, Exporters.ts, Observability.ts' tempo) and the monitors the charts create,
 * with the relabelings we hand them in their values. The operator first sets `job` (the Service's name, or
 * the chart's jobLabel), `namespace`, `service`, `pod`, `container`, `endpoint`, `instance`; then each
 * relabeling of the endpoint applies in order. Only `replace` with a fixed `replacement` (what
 * observability/targets.ts emits) and `replace` from a source label are modelled; anything else is reported.
 */
import { ScrapeTargets, type ScrapeTarget } from "../../observability/targets.js"
import { isRecord } from "../../shared/Guards.js"
import { helmReleases } from "./chartValues.js"
import type { RecordedResource } from "./harness.js"
import { type K8sObject, kubernetesObjects } from "./render.js"

export interface ClusterTarget {
  /** `ServiceMonitor brandme/gateway`, `chart kube-prometheus-stack/kubelet` */
  readonly where: string
  readonly labels: Readonly<Record<string, string>>
  /** the endpoint's port name, path and honorLabels as rendered */
  readonly port: string
  readonly path: string
  readonly honorLabels: boolean
  /** the declared target it stands for (by the job it ends up with, or by the chart it belongs to) */
  readonly declared: ScrapeTarget | undefined
}

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const str = (v: unknown): string => (typeof v === "string" ? v : "")

/** Applies operator relabelings; throws on an action it does not model (so the test cannot pass on it). */
export const relabel = (
  initial: Readonly<Record<string, string>>,
  relabelings: ReadonlyArray<unknown>
): Record<string, string> => {
  const labels: Record<string, string> = { ...initial }
  for (const r0 of relabelings) {
    const r = rec(r0)
    const action = str(r.action) || "replace"
    const target = str(r.targetLabel)
    if (action !== "replace") throw new Error(`relabeling action ${action} is not modelled`)
    const sources = arr(r.sourceLabels).map(str)
    const regex = new RegExp(`^(?:${str(r.regex) || "(.*)"})$`)
    const joined = sources.map((s) => labels[s] ?? "").join(str(r.separator) || ";")
    const m = joined.match(regex)
    if (m === null) continue
    const replacement = typeof r.replacement === "string" ? r.replacement : "$1"
    labels[target] = replacement.replace(/\$(\d+)/g, (_, i: string) => m[Number(i)] ?? "")
  }
  // labels starting with __ are dropped after relabeling
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("__")))
}

const objectsOf = (rs: ReadonlyArray<RecordedResource>, kind: string): ReadonlyArray<K8sObject> =>
  kubernetesObjects(rs, true).flatMap(({ object }) => (object?.kind === kind ? [object] : []))

const selects = (selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean =>
  Object.entries(rec(rec(selector).matchLabels)).every(([k, v]) => labels?.[k] === v)

/** Our own ServiceMonitors, one target per endpoint of each Service they select. */
const ownMonitors = (rs: ReadonlyArray<RecordedResource>): ReadonlyArray<ClusterTarget> => {
  const services = objectsOf(rs, "Service")
  return objectsOf(rs, "ServiceMonitor").flatMap((m) => {
    const spec = rec(m.spec)
    const namespace = m.metadata.namespace ?? "default"
    const ours = services.filter(
      (s) => (s.metadata.namespace ?? "default") === namespace && selects(spec.selector, s.metadata.labels)
    )
    // a chart's Service (tempo's) is not rendered here: it is named after its app.kubernetes.io/name
    const chartService = str(rec(rec(spec.selector).matchLabels)["app.kubernetes.io/name"])
    const selected: ReadonlyArray<{ metadata: { name: string } }> =
      ours.length > 0 ? ours : chartService === "" ? [] : [{ metadata: { name: chartService } }]
    return selected.flatMap((svc) =>
      arr(spec.endpoints).map((e0) => {
        const e = rec(e0)
        const port = str(e.port)
        const labels = relabel(
          {
            job: svc.metadata.name,
            namespace,
            service: svc.metadata.name,
            endpoint: port,
            pod: `${svc.metadata.name}-0`,
            instance: `10.0.0.1:${port}`,
            __metrics_path__: str(e.path) || "/metrics"
          },
          arr(e.relabelings)
        )
        return {
          where: `ServiceMonitor ${namespace}/${m.metadata.name}`,
          labels,
          port,
          path: str(e.path) || "/metrics",
          honorLabels: e.honorLabels === true,
          declared: ScrapeTargets.find((t) => t.cluster.by === "ServiceMonitor" && t.job === labels.job)
        }
      })
    )
  })
}

/** Where each chart takes the relabelings of the monitor it creates for a declared target. */
export const ChartRelabelingPaths: Readonly<Record<string, { release: string; path: ReadonlyArray<string | number> }>> =
  {
    "kube-prometheus-stack/prometheus": {
      release: "kube-prometheus-stack",
      path: ["prometheus", "serviceMonitor", "relabelings"]
    },
    "kube-prometheus-stack/alertmanager": {
      release: "kube-prometheus-stack",
      path: ["alertmanager", "serviceMonitor", "relabelings"]
    },
    "kube-prometheus-stack/kubelet": {
      release: "kube-prometheus-stack",
      path: ["kubelet", "serviceMonitor", "cAdvisorRelabelings"]
    },
    "kube-prometheus-stack/prometheus-node-exporter": {
      release: "kube-prometheus-stack",
      path: ["prometheus-node-exporter", "prometheus", "monitor", "relabelings"]
    },
    loki: { release: "loki", path: ["monitoring", "serviceMonitor", "relabelings"] },
    "otel-collector": { release: "otel-collector", path: ["serviceMonitor", "relabelings"] },
    nats: {
      release: "nats",
      path: ["promExporter", "podMonitor", "merge", "spec", "podMetricsEndpoints", 0, "relabelings"]
    }
  }

const dig = (v: unknown, path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>((cur, k) => (typeof k === "number" ? arr(cur)[k] : rec(cur)[k]), v)

/** The monitors the charts create for declared targets, with the relabelings their values carry. */
const chartMonitors = (rs: ReadonlyArray<RecordedResource>): ReadonlyArray<ClusterTarget> => {
  const releases = helmReleases(rs)
  return ScrapeTargets.flatMap((t) => {
    if (t.cluster.by !== "chart") return []
    const at = ChartRelabelingPaths[t.cluster.chart]
    const release = releases.find((r) => r.name === at?.release)
    if (at === undefined || release === undefined) return []
    const relabelings = dig(release.values, at.path)
    const labels = relabel(
      {
        // where the chart derives the job from its own names, it is none of ours: an unmatched placeholder
        job: t.cluster.clusterJob ?? `chart:${t.cluster.chart}`,
        namespace: release.namespace,
        instance: "10.0.0.2:9999",
        ...(t.cluster.monitor === "ServiceMonitor" ? { service: t.cluster.chart } : {})
      },
      arr(relabelings)
    )
    return [
      {
        where: `chart ${t.cluster.chart} ${t.cluster.monitor}`,
        labels,
        port: "",
        path: t.path,
        honorLabels: false,
        declared: t
      }
    ]
  })
}

export const clusterTargets = (rs: ReadonlyArray<RecordedResource>): ReadonlyArray<ClusterTarget> => [
  ...ownMonitors(rs),
  ...chartMonitors(rs)
]
