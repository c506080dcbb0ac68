/**
 * Our own ServiceMonitors of a rendered stack as the Prometheus scrape configs the Prometheus Operator
 * generates from them, with `kubernetes_sd` (which needs an API server) replaced by one static target per
 * pod: the address a caller says the pod runs at, carrying the `__meta_kubernetes_*` labels that service
 * discovery would give it (namespace, the Service's name and labels, the endpoint's port name, the pod's name
 * and container). Then, in the operator's order: keep the Services the monitor's selector matches, keep the
 * endpoint's port, set `namespace`, `service`, `pod`, `container`, `job` (the Service's name), `endpoint`, and
 * apply the endpoint's own relabelings (camelCase → snake_case, as the operator does).
 *
 * Not reproduced: the operator's sharding (`hashmod`), Endpoints objects (a pod stands for every endpoint of
 * its Service, one replica), namespace selectors (a monitor selects Services of its own namespace, which is
 * all ours do), `targetLabels` / `podTargetLabels` (none set), TLS / authorization on the endpoint (none set).
 * Monitors whose Services are not rendered (the charts' own: tempo's, the kubelet, node-exporter, …) or whose
 * pods the caller does not run are returned as `unmatched`.
 */
import type { RecordedResource } from "./harness.js"
import { type K8sObject, kubernetesObjects } from "./render.js"

export interface OperatorScrapeConfig {
  readonly job_name: string
  readonly honor_labels: boolean
  readonly metrics_path: string
  readonly scrape_interval: string
  readonly scrape_timeout: string
  readonly static_configs: ReadonlyArray<{ targets: ReadonlyArray<string>; labels: Record<string, string> }>
  readonly relabel_configs: ReadonlyArray<Record<string, unknown>>
}

export interface OperatorScrape {
  readonly scrapeConfigs: ReadonlyArray<OperatorScrapeConfig>
  /** one entry per scraped pod: the monitor, the Deployment behind it and the address scraped */
  readonly targets: ReadonlyArray<{ monitor: string; deployment: string; address: string }>
  /** `ServiceMonitor ns/name`: no rendered Service, or no pod of it is run by the caller */
  readonly unmatched: ReadonlyArray<string>
}

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const str = (v: unknown): string => (typeof v === "string" ? v : "")

/** Prometheus' label-name sanitising of Kubernetes label keys (`app.kubernetes.io/name` → `app_kubernetes_io_name`). */
export const metaLabelName = (key: string): string => key.replace(/[^a-zA-Z0-9_]/g, "_")

const SnakeKeys: Readonly<Record<string, string>> = {
  sourceLabels: "source_labels",
  targetLabel: "target_label",
  separator: "separator",
  regex: "regex",
  replacement: "replacement",
  action: "action",
  modulus: "modulus"
}

/** A monitor's RelabelConfig (CRD spelling) as Prometheus' relabel_config; an unknown field fails. */
export const toRelabelConfig = (r: unknown): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(rec(r)).map(([k, v]) => {
      const key = SnakeKeys[k]
      if (key === undefined) throw new Error(`relabeling field ${k} is not translated`)
      return [key, key === "action" ? str(v).toLowerCase() : v]
    })
  )

const matches = (selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean =>
  Object.entries(rec(selector)).every(([k, v]) => labels?.[k] === v)

export const operatorScrapeConfigs = (
  resources: ReadonlyArray<RecordedResource>,
  /** where the pod of a Deployment runs (an IP), undefined when the caller does not run it */
  addressOf: (namespace: string, deployment: string) => string | undefined,
  timing: { readonly interval: string; readonly timeout: string }
): OperatorScrape => {
  const objects = kubernetesObjects(resources, true).flatMap(({ object }) => (object === undefined ? [] : [object]))
  const ofKind = (kind: string): ReadonlyArray<K8sObject> => objects.filter((o) => o.kind === kind)
  const ns = (o: K8sObject) => o.metadata.namespace ?? "default"
  const scrapeConfigs: Array<OperatorScrapeConfig> = []
  const targets: Array<{ monitor: string; deployment: string; address: string }> = []
  const unmatched: Array<string> = []
  for (const m of ofKind("ServiceMonitor")) {
    const where = `ServiceMonitor ${ns(m)}/${m.metadata.name}`
    const spec = rec(m.spec)
    const selector = rec(rec(spec.selector).matchLabels)
    const services = ofKind("Service").filter((s) => ns(s) === ns(m) && matches(selector, s.metadata.labels))
    arr(spec.endpoints).forEach((e0, i) => {
      const e = rec(e0)
      const portName = str(e.port)
      const staticConfigs = services.flatMap((svc) => {
        const sspec = rec(svc.spec)
        const port = arr(sspec.ports)
          .map(rec)
          .find((p) => p.name === portName)
        if (port === undefined) return []
        // the pods behind the Service: the Deployments whose pod template its selector matches
        return ofKind("Deployment")
          .filter(
            (d) =>
              ns(d) === ns(svc) &&
              matches(sspec.selector, rec(rec(rec(d.spec).template).metadata).labels as Record<string, string>)
          )
          .flatMap((d) => {
            const address = addressOf(ns(d), d.metadata.name)
            if (address === undefined) return []
            const containers = arr(rec(rec(rec(d.spec).template).spec).containers).map(rec)
            const target = port.targetPort ?? port.port
            const owner = containers.find((c) =>
              arr(c.ports).some((p) => rec(p).name === target || rec(p).containerPort === target)
            )
            const containerPort = arr(owner?.ports)
              .map(rec)
              .find((p) => p.name === target || p.containerPort === target)?.containerPort
            if (owner === undefined || typeof containerPort !== "number") return []
            const pod = `${d.metadata.name}-0`
            targets.push({ monitor: where, deployment: d.metadata.name, address: `${address}:${containerPort}` })
            const serviceLabels = Object.entries(svc.metadata.labels ?? {}).flatMap(([k, v]) => [
              [`__meta_kubernetes_service_label_${metaLabelName(k)}`, v],
              [`__meta_kubernetes_service_labelpresent_${metaLabelName(k)}`, "true"]
            ])
            return [
              {
                targets: [`${address}:${containerPort}`],
                labels: {
                  __meta_kubernetes_namespace: ns(svc),
                  __meta_kubernetes_service_name: svc.metadata.name,
                  ...Object.fromEntries(serviceLabels),
                  __meta_kubernetes_endpoint_port_name: portName,
                  __meta_kubernetes_endpoint_address_target_kind: "Pod",
                  __meta_kubernetes_endpoint_address_target_name: pod,
                  __meta_kubernetes_pod_name: pod,
                  __meta_kubernetes_pod_container_name: str(owner.name)
                }
              }
            ]
          })
      })
      if (staticConfigs.length === 0) {
        unmatched.push(where)
        return
      }
      // the operator's own relabelings (prometheus-operator pkg/prometheus/promcfg.go), then the endpoint's
      const keepSelector = Object.entries(selector).map(([k, v]) => ({
        action: "keep",
        source_labels: [
          `__meta_kubernetes_service_label_${metaLabelName(k)}`,
          `__meta_kubernetes_service_labelpresent_${metaLabelName(k)}`
        ],
        regex: `(${String(v)});true`
      }))
      const copy = (from: string, to: string) => ({ source_labels: [from], target_label: to })
      scrapeConfigs.push({
        job_name: `serviceMonitor/${ns(m)}/${m.metadata.name}/${i}`,
        honor_labels: e.honorLabels === true,
        metrics_path: str(e.path) || "/metrics",
        scrape_interval: timing.interval,
        scrape_timeout: timing.timeout,
        static_configs: staticConfigs,
        relabel_configs: [
          copy("job", "__tmp_prometheus_job_name"),
          ...keepSelector,
          { action: "keep", source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: portName },
          {
            source_labels: [
              "__meta_kubernetes_endpoint_address_target_kind",
              "__meta_kubernetes_endpoint_address_target_name"
            ],
            separator: ";",
            regex: "Pod;(.*)",
            replacement: "$1",
            target_label: "pod"
          },
          copy("__meta_kubernetes_namespace", "namespace"),
          copy("__meta_kubernetes_service_name", "service"),
          copy("__meta_kubernetes_pod_name", "pod"),
          copy("__meta_kubernetes_pod_container_name", "container"),
          copy("__meta_kubernetes_service_name", "job"),
          { target_label: "endpoint", replacement: portName },
          ...arr(e.relabelings).map(toRelabelConfig)
        ]
      })
    })
  }
  return { scrapeConfigs, targets, unmatched }
}
