import { parse } from "yaml"
import { isRecord } from "../../shared/Guards.js"
import { coalesce } from "./chartFixtures.js"
import type { ReleaseValues } from "./chartValues.js"

/**
 * What each pinned chart renders that we wire to. Helm templates
 * cannot be evaluated here, so each chart's Services, ServiceMonitors and data volume are
 * modelled below from its templates at the pinned version (the file each comes from is named),
 * as functions of the values Helm renders with (chart defaults coalesced with ours).
 */

export interface PortSpec {
  readonly name: string
  readonly port: number
  /** the port the process listens on per its effective config, where the chart can disagree */
  readonly listens?: number
}

export interface ServiceSpec {
  readonly namespace: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly ports: ReadonlyArray<PortSpec>
}

export interface MonitorSpec {
  readonly where: string
  readonly namespace: string
  readonly matchLabels: Readonly<Record<string, string>>
  readonly ports: ReadonlyArray<string>
}

export interface DataSource {
  readonly uid: string
  readonly url: string
  readonly doc: Record<string, unknown>
}

export interface Rendered {
  readonly services: ReadonlyArray<ServiceSpec>
  readonly monitors: ReadonlyArray<MonitorSpec>
  /** the persistent volume's mount path and the storage paths the process writes */
  readonly storage?: { readonly mount: string | undefined; readonly paths: ReadonlyArray<string> }
  readonly grafana?: {
    readonly namespace: string
    readonly datasources: ReadonlyArray<DataSource>
    readonly dashboardLabel: readonly [string, string]
    readonly searchNamespace: string
  }
}

export const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
export const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
export const at = (v: unknown, ...path: ReadonlyArray<string>): unknown => path.reduce<unknown>((x, k) => rec(x)[k], v)
export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v))
export const str = (v: unknown, fallback = ""): string => (typeof v === "string" && v !== "" ? v : fallback)

/** Storage-path keys of Loki's and Tempo's configs: `path`, `path_prefix`, `*_directory`, `cache_location`, `rule_path`… */
const StorageKey = /^(path|path_prefix|directory|rule_path|cache_location|[a-z_]+_(directory|path))$/

export const storagePaths = (config: unknown): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (v: unknown, key: string): void => {
    if (typeof v === "string" && StorageKey.test(key) && v.startsWith("/")) out.push(v)
    else if (Array.isArray(v)) for (const x of v) walk(x, key)
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  walk(config, "")
  return out
}

const selectorOf = (name: string, release: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/instance": release
})

export type Model = (r: ReleaseValues, values: Record<string, unknown>) => Rendered

/** Models of the pinned charts, keyed by chart name. */
export const Models: Readonly<Record<string, Model>> = {
  // templates/prometheus/service.yaml, templates/alertmanager/service.yaml,
  // templates/grafana/configmaps-datasources.yaml; grafana 8.5.12 templates/service.yaml
  "kube-prometheus-stack": (r, v) => {
    const full = str(v.fullnameOverride, r.name)
    const ds = rec(at(v, "grafana", "sidecar", "datasources"))
    const promPort = num(at(v, "prometheus", "service", "port"))
    const amPort = num(at(v, "alertmanager", "service", "port"))
    const dashboards = rec(at(v, "grafana", "sidecar", "dashboards"))
    const datasources: Array<DataSource> = []
    if (ds.defaultDatasourceEnabled === true)
      datasources.push({
        uid: str(ds.uid),
        url: str(ds.url, `http://${full}-prometheus.${r.namespace}:${promPort}/`),
        // the chart writes exemplarTraceIdDestinations into this data source's jsonData
        doc: isRecord(ds.exemplarTraceIdDestinations) ? { exemplars: ds.exemplarTraceIdDestinations } : {}
      })
    if (rec(ds.alertmanager).enabled === true)
      datasources.push({
        uid: str(rec(ds.alertmanager).uid),
        url: str(rec(ds.alertmanager).url, `http://${full}-alertmanager.${r.namespace}:${amPort}/`),
        doc: {}
      })
    for (const d of arr(at(v, "grafana", "additionalDataSources")).map(rec))
      datasources.push({ uid: str(d.uid), url: str(d.url), doc: d })
    return {
      services: [
        {
          namespace: r.namespace,
          name: `${full}-prometheus`,
          labels: {},
          ports: [{ name: "http-web", port: promPort }]
        },
        {
          namespace: r.namespace,
          name: `${full}-alertmanager`,
          labels: {},
          ports: [{ name: "http-web", port: amPort }]
        },
        {
          namespace: r.namespace,
          name: str(at(v, "grafana", "fullnameOverride"), `${r.name}-grafana`),
          labels: {},
          ports: [
            { name: str(at(v, "grafana", "service", "portName")), port: num(at(v, "grafana", "service", "port")) }
          ]
        }
      ],
      monitors: [],
      grafana: {
        namespace: r.namespace,
        datasources,
        dashboardLabel: [str(dashboards.label), str(dashboards.labelValue)],
        searchNamespace: str(dashboards.searchNamespace)
      }
    }
  },
  // templates/single-binary/service.yaml, single-binary/statefulset.yaml (volume `storage` at
  // /var/loki), monitoring/servicemonitor.yaml, values.yaml loki.config (generated config)
  loki: (r, v) => {
    const name = str(v.fullnameOverride, r.name)
    const loki = rec(v.loki)
    const server = rec(coalesce(loki.server, rec(loki.structuredConfig).server))
    const port = (key: string, portName: string): PortSpec => ({
      name: portName,
      port: num(rec(loki.server)[key]),
      listens: num(server[key])
    })
    const generated = {
      common: { path_prefix: at(loki, "commonConfig", "path_prefix") },
      ...(at(loki, "storage", "type") === "filesystem"
        ? { common: { storage: { filesystem: rec(at(loki, "storage", "filesystem")) } } }
        : {})
    }
    return {
      services: [
        {
          namespace: r.namespace,
          name,
          labels: selectorOf("loki", r.name),
          ports: [port("http_listen_port", "http-metrics"), port("grpc_listen_port", "grpc")]
        }
      ],
      monitors:
        at(v, "monitoring", "serviceMonitor", "enabled") === true
          ? [
              {
                where: `${r.name} chart ServiceMonitor`,
                namespace: r.namespace,
                matchLabels: selectorOf("loki", r.name),
                ports: ["http-metrics"]
              }
            ]
          : [],
      storage: {
        mount: at(v, "singleBinary", "persistence", "enabled") === true ? "/var/loki" : undefined,
        paths: storagePaths(coalesce(generated, loki.structuredConfig))
      }
    }
  },
  // templates/service.yaml (fixed ports), servicemonitor.yaml, statefulset.yaml (volume `storage` at
  // /var/tempo), values.yaml `config` (rendered with tpl; the default reads tempo.*)
  tempo: (r, v) => {
    const name = str(v.fullnameOverride, r.name)
    const raw = str(v.config)
    const config = raw.includes("{{")
      ? { server: at(v, "tempo", "server"), storage: at(v, "tempo", "storage") }
      : rec(parse(raw))
    const fixed: ReadonlyArray<readonly [string, number]> = [
      ["tempo-jaeger-thrift-compact", 6831],
      ["tempo-jaeger-thrift-binary", 6832],
      ["tempo-jaeger-thrift-http", 14268],
      ["grpc-tempo-jaeger", 14250],
      ["tempo-zipkin", 9411],
      ["tempo-otlp-legacy", 55680],
      ["tempo-otlp-http-legacy", 55681],
      ["grpc-tempo-otlp", 4317],
      ["tempo-otlp-http", 4318],
      ["tempo-opencensus", 55678]
    ]
    const query = at(v, "tempoQuery", "enabled") === true
    return {
      services: [
        {
          namespace: r.namespace,
          name,
          labels: selectorOf("tempo", r.name),
          ports: [
            { name: "tempo-prom-metrics", port: 3100, listens: num(at(config, "server", "http_listen_port") ?? 3200) },
            ...(query ? [{ name: "jaeger-metrics", port: 16687 }] : []),
            ...fixed.map(([n, p]) => ({ name: n, port: p }))
          ]
        }
      ],
      monitors:
        at(v, "serviceMonitor", "enabled") === true
          ? [
              {
                where: `${r.name} chart ServiceMonitor`,
                namespace: r.namespace,
                matchLabels: selectorOf("tempo", r.name),
                ports: ["tempo-prom-metrics", "jaeger-metrics"]
              }
            ]
          : [],
      storage: {
        mount: at(v, "persistence", "enabled") === true ? "/var/tempo" : undefined,
        paths: storagePaths({ storage: config.storage, metrics_generator: config.metrics_generator })
      }
    }
  },
  // templates/service.yaml (enabled entries of `ports`), templates/servicemonitor.yaml
  "opentelemetry-collector": (r, v) => {
    const labels = selectorOf("opentelemetry-collector", r.name)
    return {
      services: [
        {
          namespace: r.namespace,
          name: str(v.fullnameOverride, `${r.name}-opentelemetry-collector`),
          labels,
          ports: Object.entries(rec(v.ports)).flatMap(([n, p]) =>
            rec(p).enabled === true ? [{ name: n, port: num(rec(p).servicePort) }] : []
          )
        }
      ],
      monitors:
        at(v, "serviceMonitor", "enabled") === true
          ? [
              {
                where: `${r.name} chart ServiceMonitor`,
                namespace: r.namespace,
                matchLabels: labels,
                ports: arr(at(v, "serviceMonitor", "metricsEndpoints")).map((e) => str(rec(e).port))
              }
            ]
          : []
    }
  },
  // templates/controller-service-metrics.yaml, templates/controller-servicemonitor.yaml
  "ingress-nginx": (r, v) => {
    const m = rec(at(v, "controller", "metrics"))
    const labels = { ...selectorOf("ingress-nginx", r.name), "app.kubernetes.io/component": "controller" }
    return {
      services:
        m.enabled === true
          ? [
              {
                namespace: r.namespace,
                name: `${r.name}-controller-metrics`,
                labels,
                ports: [{ name: str(m.portName), port: num(at(m, "service", "servicePort")) }]
              }
            ]
          : [],
      monitors:
        m.enabled === true && at(m, "serviceMonitor", "enabled") === true
          ? [
              {
                where: `${r.name} chart ServiceMonitor`,
                namespace: r.namespace,
                matchLabels: labels,
                ports: [str(m.portName)]
              }
            ]
          : []
    }
  }
}
