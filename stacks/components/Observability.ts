import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { stringify } from "yaml"
import { logsAgentConfig } from "../../observability/logsAgent.js"
import { monitorRelabelings, serviceMonitorEndpoint, targetOf } from "../../observability/targets.js"
import { Backends, DataSourceUids } from "../../observability/topology.js"
import { Charts } from "../charts.js"
import { isRecord } from "../../shared/Guards.js"
import { type ObservabilityFiles, rebasePaths, rewriteHosts } from "../observabilityFiles.js"
import {
  AlertmanagerReceiversSecret,
  AlertmanagerSecretsDir,
  GrafanaAdminKeys,
  GrafanaAdminSecret
} from "../secrets.js"
import { release } from "./helm.js"
import { PlatformNamespaces } from "./Namespaces.js"

export interface ObservabilityArgs {
  readonly provider: k8s.Provider
  readonly namespace: k8s.core.v1.Namespace
  readonly files: ObservabilityFiles
  readonly prometheusRetention: string
  readonly prometheusStorageGb: number
  /** APP_ENV, which the collector's resource processor stamps on telemetry */
  readonly appEnv: string
  /** GKE runs the control plane: its components cannot be scraped */
  readonly managedControlPlane: boolean
}

export const ObservabilityNamespace = "observability"
const svc = (name: string): string => `${name}.${ObservabilityNamespace}.svc.cluster.local`

/** In-cluster names of the services the compose-style config files refer to. */
export const InClusterHosts: Readonly<Record<string, string>> = {
  tempo: svc("tempo"),
  loki: svc("loki"),
  prometheus: svc("prometheus-stack-prometheus"),
  alertmanager: svc("prometheus-stack-alertmanager"),
  grafana: svc("grafana"),
  "otel-collector": svc("otel-collector")
}

/**
 * Ports a chart fixes where compose uses another: tempo 1.14.0's Service and container expose the
 * HTTP API on 3100 only (templates/service.yaml, statefulset.yaml), so Tempo listens there and
 * every client uses it.
 */
export const TempoChartHttpPort = 3100
export const InClusterPorts: Readonly<Record<string, Readonly<Record<number, number>>>> = {
  tempo: { [Backends.tempo.port]: TempoChartHttpPort }
}
const inCluster = (doc: unknown): unknown => rewriteHosts(doc, InClusterHosts, InClusterPorts)

/**
 * Where the charts mount their data volumes (loki 6.21.0 templates/single-binary/statefulset.yaml,
 * tempo 1.14.0 templates/statefulset.yaml). loki-config.yml keeps its data under /loki (the
 * compose volume): in the cluster the same tree lives on the chart's volume.
 */
export const LokiComposeDataDir = "/loki"
export const LokiChartDataDir = "/var/loki"

export const OtlpHttpEndpoint = `http://${svc("otel-collector")}:4318`
/** Loki's OTLP ingestion, where the node log agent sends */
export const LokiOtlpEndpoint = `http://${svc("loki")}:${Backends.loki.port}/otlp`

/** The label the Grafana sidecar loads dashboards ConfigMaps by. */
export const DashboardLabel = { key: "grafana_dashboard", value: "1" } as const

/** tempo.yml at its in-cluster addresses, listening where the chart's Service sends traffic. */
const tempoConfig = (file: Record<string, unknown>): Record<string, unknown> => {
  const config = inCluster(file)
  const c = isRecord(config) ? config : {}
  return { ...c, server: { ...(isRecord(c.server) ? c.server : {}), http_listen_port: TempoChartHttpPort } }
}

/**
 * The kubelet's cAdvisor metric relabelings: kube-prometheus-stack's defaults (chart values.yaml,
 * `kubelet.serviceMonitor.cAdvisorMetricRelabelings`; a Helm list is replaced, not merged, so all are restated)
 * except that the chart drops every `container_spec.*` series, and ContainerMemoryNearLimit divides by
 * `container_spec_memory_limit_bytes`: only the other spec series are dropped here.
 */
export const CadvisorMetricRelabelings = [
  ...[
    "container_cpu_(cfs_throttled_seconds_total|load_average_10s|system_seconds_total|user_seconds_total)",
    "container_fs_(io_current|io_time_seconds_total|io_time_weighted_seconds_total|reads_merged_total|sector_reads_total|sector_writes_total|writes_merged_total)",
    "container_memory_(mapped_file|swap)",
    "container_(file_descriptors|tasks_state|threads_max)",
    "container_spec_(cpu_.+|memory_reservation_limit_bytes|memory_swap_limit_bytes)"
  ].map((regex) => ({ sourceLabels: ["__name__"], action: "drop", regex })),
  // cgroups of no pod (the node's own slices)
  { sourceLabels: ["id", "pod"], action: "drop", regex: ".+;" }
]

/** Our relabelings (tier, service) for a target a chart scrapes itself: observability/targets.ts. */
const relabel = (job: string) => [...monitorRelabelings(targetOf(job))]

const defaultLokiSchema = {
  configs: [
    {
      from: "2024-01-01",
      store: "tsdb",
      object_store: "filesystem",
      schema: "v13",
      index: { prefix: "index_", period: "24h" }
    }
  ]
}

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, Grafana), Loki, Tempo and the OpenTelemetry
 * Collector, configured from the files in observability/; dashboards become ConfigMaps the
 * Grafana sidecar loads, rule files become PrometheusRules.
 */
export class Observability extends pulumi.ComponentResource {
  /** the Prometheus operator and its CRDs: ServiceMonitors and PrometheusRules wait for it */
  readonly operator: k8s.helm.v3.Release

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:observability:Stack", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const namespace = args.namespace.metadata.name
    const after = { ...o, dependsOn: [args.namespace] }
    const { files } = args
    const datasources = files.grafanaDatasources.map(inCluster).filter(isRecord)
    // the chart provisions the Prometheus data source itself (sidecar.datasources): give it our uid
    const prometheus = datasources.find((d) => d.type === "prometheus")
    // and the Alertmanager one (sidecar.datasources.alertmanager): our uid, the chart's Service
    const alertmanager = datasources.find((d) => d.type === "alertmanager")
    const exemplars = isRecord(prometheus?.jsonData) ? prometheus.jsonData.exemplarTraceIdDestinations : undefined
    const exemplar = Array.isArray(exemplars) && isRecord(exemplars[0]) ? exemplars[0] : undefined

    this.operator = release(
      "kube-prometheus-stack",
      {
        chart: Charts.kubePrometheusStack,
        namespace,
        values: {
          fullnameOverride: "prometheus-stack",
          prometheus: {
            prometheusSpec: {
              retention: args.prometheusRetention,
              // leave headroom so the TSDB never fills the volume
              retentionSize: `${Math.floor(args.prometheusStorageGb * 0.85)}GB`,
              storageSpec: {
                volumeClaimTemplate: {
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: `${args.prometheusStorageGb}Gi` } }
                  }
                }
              },
              // pick up every ServiceMonitor / PodMonitor / PrometheusRule, not only the chart's own
              serviceMonitorSelectorNilUsesHelmValues: false,
              podMonitorSelectorNilUsesHelmValues: false,
              ruleSelectorNilUsesHelmValues: false,
              enableRemoteWriteReceiver: true
            },
            serviceMonitor: { relabelings: relabel("prometheus") }
          },
          kubelet: {
            serviceMonitor: {
              // the chart's own (metrics_path, which its rules need), then ours
              cAdvisorRelabelings: [
                { action: "replace", sourceLabels: ["__metrics_path__"], targetLabel: "metrics_path" },
                ...relabel("cadvisor")
              ],
              cAdvisorMetricRelabelings: CadvisorMetricRelabelings
            }
          },
          "prometheus-node-exporter": { prometheus: { monitor: { relabelings: relabel("node-exporter") } } },
          alertmanager: {
            serviceMonitor: { relabelings: relabel("alertmanager") },
            ...(files.alertmanager === undefined ? {} : { config: rewriteHosts(files.alertmanager, InClusterHosts) }),
            alertmanagerSpec: {
              // alertmanager.yml reads receiver credentials from files (`*_file`) in this folder
              volumes: [{ name: "receivers", secret: { secretName: AlertmanagerReceiversSecret } }],
              volumeMounts: [{ name: "receivers", mountPath: AlertmanagerSecretsDir, readOnly: true }],
              storage: {
                volumeClaimTemplate: {
                  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } }
                }
              }
            }
          },
          grafana: {
            fullnameOverride: "grafana",
            admin: {
              existingSecret: GrafanaAdminSecret,
              userKey: GrafanaAdminKeys.user,
              passwordKey: GrafanaAdminKeys.password
            },
            persistence: { enabled: true, size: "10Gi" },
            sidecar: {
              dashboards: {
                enabled: true,
                label: DashboardLabel.key,
                labelValue: DashboardLabel.value,
                searchNamespace: "ALL"
              },
              datasources: {
                uid: typeof prometheus?.uid === "string" ? prometheus.uid : DataSourceUids.prometheus,
                alertmanager: {
                  uid: typeof alertmanager?.uid === "string" ? alertmanager.uid : DataSourceUids.alertmanager
                },
                ...(exemplar === undefined
                  ? {}
                  : {
                      exemplarTraceIdDestinations: {
                        datasourceUid: exemplar.datasourceUid,
                        traceIdLabelName: exemplar.name
                      }
                    })
              }
            },
            // the other data sources as Grafana provisions them in compose, at their in-cluster addresses
            additionalDataSources: datasources.filter((d) => d !== prometheus && d !== alertmanager)
          },
          ...(args.managedControlPlane
            ? {
                kubeControllerManager: { enabled: false },
                kubeScheduler: { enabled: false },
                kubeEtcd: { enabled: false }
              }
            : {})
        }
      },
      after
    )

    const loki = rebasePaths(inCluster(files.loki ?? {}), LokiComposeDataDir, LokiChartDataDir)
    const lokiServer = isRecord(loki) && isRecord(loki.server) ? loki.server : {}
    release(
      "loki",
      {
        chart: Charts.loki,
        namespace,
        values: {
          fullnameOverride: "loki",
          deploymentMode: "SingleBinary",
          loki: {
            auth_enabled: false,
            commonConfig: { replication_factor: 1 },
            storage: { type: "filesystem" },
            // the chart's Services take their ports from here: the ports Loki listens on
            server: Object.fromEntries(
              ["http_listen_port", "grpc_listen_port"].flatMap((k) => (k in lokiServer ? [[k, lokiServer[k]]] : []))
            ),
            schemaConfig: (isRecord(loki) ? loki.schema_config : undefined) ?? defaultLokiSchema,
            structuredConfig: loki
          },
          singleBinary: { replicas: 1, persistence: { enabled: true, size: "20Gi" } },
          backend: { replicas: 0 },
          read: { replicas: 0 },
          write: { replicas: 0 },
          chunksCache: { enabled: false },
          resultsCache: { enabled: false },
          lokiCanary: { enabled: false },
          test: { enabled: false },
          monitoring: { serviceMonitor: { enabled: true, relabelings: relabel("loki") } }
        }
      },
      { ...after, dependsOn: [args.namespace, this.operator] }
    )

    release(
      "tempo",
      {
        chart: Charts.tempo,
        namespace,
        values: {
          fullnameOverride: "tempo",
          // tempo 1.14.0 renders its config from the `config` template alone: ours replaces it whole
          ...(files.tempo === undefined ? {} : { config: stringify(tempoConfig(files.tempo)) }),
          persistence: { enabled: true, size: "20Gi" },
          // the chart's ServiceMonitor also scrapes `jaeger-metrics`, a port only tempo-query has
          serviceMonitor: { enabled: false }
        }
      },
      { ...after, dependsOn: [args.namespace, this.operator] }
    )
    new k8s.apiextensions.CustomResource(
      "tempo",
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "tempo", namespace, labels: { "app.kubernetes.io/part-of": "brandme" } },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "tempo", "app.kubernetes.io/instance": "tempo" } },
          endpoints: [serviceMonitorEndpoint(targetOf("tempo"))]
        }
      },
      { ...o, dependsOn: [this.operator] }
    )

    release(
      "otel-collector",
      {
        chart: Charts.otelCollector,
        namespace,
        values: {
          fullnameOverride: "otel-collector",
          mode: "deployment",
          replicaCount: 2,
          image: { repository: "otel/opentelemetry-collector-contrib" },
          extraEnvs: [
            { name: "APP_ENV", value: args.appEnv },
            { name: "CLOUD_PROVIDER", value: args.managedControlPlane ? "gcp" : "kubernetes" }
          ],
          config: inCluster(files.otelCollector ?? {}),
          // the ServiceMonitor scrapes the Service port `metrics`, which exists only when enabled
          ports: { metrics: { enabled: true } },
          serviceMonitor: { enabled: true, relabelings: relabel("otel-collector") },
          podDisruptionBudget: { enabled: true, maxUnavailable: 1 }
        }
      },
      { ...after, dependsOn: [args.namespace, this.operator] }
    )

    // the node log agent: pods' JSON lines → k8s attributes → PII redaction → Loki (observability/logsAgent.ts)
    const gateway = isRecord(files.otelCollector) ? files.otelCollector : {}
    const redaction = isRecord(gateway.processors) ? gateway.processors["transform/redact-pii"] : undefined
    if (redaction !== undefined) {
      release(
        "otel-agent",
        {
          chart: Charts.otelCollector,
          namespace,
          values: {
            fullnameOverride: "otel-agent",
            mode: "daemonset",
            image: { repository: "otel/opentelemetry-collector-contrib" },
            // the chart mounts /var/log/pods and adds its filelog receiver (ours replaces its settings), and
            // grants the k8sattributes processor read access to pods, namespaces and replicasets
            presets: { logsCollection: { enabled: true }, kubernetesAttributes: { enabled: true } },
            extraEnvs: [
              { name: "APP_ENV", value: args.appEnv },
              { name: "K8S_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }
            ],
            config: logsAgentConfig({
              namespaces: PlatformNamespaces.filter((n) => n !== ObservabilityNamespace),
              lokiOtlpEndpoint: LokiOtlpEndpoint,
              redaction,
              memoryLimitMib: 200
            }),
            // no receivers on the node: nothing listens but the health check
            ports: Object.fromEntries(
              ["otlp", "otlp-http", "jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"].map((p) => [
                p,
                { enabled: false }
              ])
            )
          }
        },
        { ...after, dependsOn: [args.namespace, this.operator] }
      )
    }

    for (const d of files.dashboards) {
      new k8s.core.v1.ConfigMap(
        `dashboard-${d.name}`,
        {
          metadata: {
            name: `dashboard-${d.name}`,
            namespace,
            labels: { [DashboardLabel.key]: DashboardLabel.value, "app.kubernetes.io/part-of": "brandme" }
          },
          data: { [`${d.name}.json`]: d.json }
        },
        after
      )
    }

    for (const r of files.rules) {
      new k8s.apiextensions.CustomResource(
        `rules-${r.name}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata: { name: r.name, namespace, labels: { "app.kubernetes.io/part-of": "brandme" } },
          spec: { groups: r.groups }
        },
        { ...o, dependsOn: [this.operator] }
      )
    }
    this.registerOutputs({ dashboards: files.dashboards.length, ruleFiles: files.rules.length })
  }
}
