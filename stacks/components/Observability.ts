import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Charts } from "../charts.js"
import { isRecord, type ObservabilityFiles, rewriteHosts } from "../observabilityFiles.js"
import {
  AlertmanagerReceiversSecret,
  AlertmanagerSecretsDir,
  GrafanaAdminKeys,
  GrafanaAdminSecret
} from "../secrets.js"
import { release } from "./helm.js"

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

export const OtlpHttpEndpoint = `http://${svc("otel-collector")}:4318`

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
            }
          },
          alertmanager: {
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
              dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: "ALL" }
            },
            additionalDataSources: [
              { name: "Loki", type: "loki", uid: "loki", url: `http://${InClusterHosts.loki}:3100` },
              {
                name: "Tempo",
                type: "tempo",
                uid: "tempo",
                url: `http://${InClusterHosts.tempo}:3200`,
                jsonData: { tracesToLogsV2: { datasourceUid: "loki", filterByTraceID: true } }
              }
            ]
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

    const loki = rewriteHosts(files.loki ?? {}, InClusterHosts)
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
          monitoring: { serviceMonitor: { enabled: true } }
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
          tempo: { structuredConfig: rewriteHosts(files.tempo ?? {}, InClusterHosts) },
          persistence: { enabled: true, size: "20Gi" },
          serviceMonitor: { enabled: true }
        }
      },
      { ...after, dependsOn: [args.namespace, this.operator] }
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
          config: rewriteHosts(files.otelCollector ?? {}, InClusterHosts),
          serviceMonitor: { enabled: true },
          podDisruptionBudget: { enabled: true, maxUnavailable: 1 }
        }
      },
      { ...after, dependsOn: [args.namespace, this.operator] }
    )

    for (const d of files.dashboards) {
      new k8s.core.v1.ConfigMap(
        `dashboard-${d.name}`,
        {
          metadata: {
            name: `dashboard-${d.name}`,
            namespace,
            labels: { grafana_dashboard: "1", "app.kubernetes.io/part-of": "brandme" }
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
