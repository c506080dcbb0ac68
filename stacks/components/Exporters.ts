import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { serviceMonitorEndpoint, targetOf } from "../../observability/targets.js"
import { Backups, Exporters as ExporterPorts } from "../../observability/topology.js"
import { SecretDefs } from "../secrets.js"
import { CaBundleDir, CaBundleFile, RunAsUser } from "./pod.js"

/**
 * The data stores' exporters, in the app namespace beside the workloads (they read the same Secrets and
 * pass the same egress policy to Cloud SQL / Memorystore): prometheus-postgres-exporter on DATABASE_URL,
 * one redis_exporter per Redis (cache, queues). Chosen over Cloud Monitoring's metrics through the
 * Stackdriver exporter because the rules read the exporters' names (`redis_memory_used_bytes`,
 * `redis_memory_max_bytes`, `pg_up`), which are the same locally, in compose, on an existing cluster and on
 * GKE; Cloud Monitoring samples every 60 s and names them otherwise. Each is scraped by a ServiceMonitor
 * built from observability/targets.ts, so its `job`, `tier`, `service` labels are the local config's.
 */
export const ExporterImages = {
  "postgres-exporter": "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
  "redis-exporter": "quay.io/oliver006/redis_exporter:v1.62.0"
} as const

export interface ExporterDeployment {
  /** Deployment / Service name */
  readonly name: string
  readonly job: keyof typeof ExporterImages
  /** env var the exporter reads → the app Secret holding that connection string */
  readonly env: Readonly<Record<string, string>>
  readonly args: ReadonlyArray<string>
}

const secretOf = (env: string) => {
  const t = SecretDefs.find((d) => d.env === env)?.target
  if (t === undefined) throw new Error(`no Secret delivers ${env}`)
  return t
}

export const ExporterDeployments: ReadonlyArray<ExporterDeployment> = [
  { name: "postgres-exporter", job: "postgres-exporter", env: { DATA_SOURCE_NAME: "DATABASE_URL" }, args: [] },
  // Memorystore refuses CONFIG: maxmemory comes from INFO memory, which the exporter reads anyway
  {
    name: "redis-exporter-cache",
    job: "redis-exporter",
    env: { REDIS_ADDR: "REDIS_URL" },
    args: ["--config-command="]
  },
  // the queue Redis also holds the backup job's last success: exported as redis_key_value{key=…} (BackupStale)
  {
    name: "redis-exporter-queue",
    job: "redis-exporter",
    env: { REDIS_ADDR: "REDIS_QUEUE_URL" },
    args: ["--config-command=", `--check-single-keys=db0=${Backups.successKey}`]
  }
]

export interface ExportersArgs {
  readonly provider: k8s.Provider
  readonly namespace: pulumi.Input<string>
  /** Cloud SQL / Memorystore CAs (cloud gcp), as the workloads mount them */
  readonly caBundleConfigMap: string | undefined
  readonly after: ReadonlyArray<pulumi.Resource>
  readonly monitoring: pulumi.Resource
}

export class DataExporters extends pulumi.ComponentResource {
  constructor(name: string, args: ExportersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Exporters", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    for (const e of ExporterDeployments) {
      const target = targetOf(e.job)
      const port = ExporterPorts[e.job].port
      const labels = {
        "app.kubernetes.io/name": e.name,
        "app.kubernetes.io/component": e.job,
        "app.kubernetes.io/part-of": "brandme"
      }
      const metadata = { name: e.name, namespace: args.namespace, labels }
      const ca = args.caBundleConfigMap
      const tlsArgs =
        ca === undefined || e.job !== "redis-exporter" ? [] : [`--tls-ca-cert-file=${CaBundleDir}/${CaBundleFile}`]
      new k8s.apps.v1.Deployment(
        e.name,
        {
          metadata,
          spec: {
            replicas: 1,
            selector: { matchLabels: { "app.kubernetes.io/name": e.name } },
            template: {
              metadata: { labels },
              spec: {
                automountServiceAccountToken: false,
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: RunAsUser,
                  runAsGroup: RunAsUser,
                  seccompProfile: { type: "RuntimeDefault" }
                },
                volumes: ca === undefined ? [] : [{ name: "ca-bundle", configMap: { name: ca } }],
                containers: [
                  {
                    name: e.job,
                    image: ExporterImages[e.job],
                    args: [...e.args, ...tlsArgs],
                    env: Object.entries(e.env).map(([name, from]) => ({
                      name,
                      valueFrom: {
                        secretKeyRef: { name: secretOf(from).secret, key: secretOf(from).key, optional: false }
                      }
                    })),
                    ports: [{ name: "metrics", containerPort: port, protocol: "TCP" }],
                    readinessProbe: { httpGet: { path: target.path, port: "metrics" }, periodSeconds: 15 },
                    resources: {
                      requests: { cpu: "20m", memory: "32Mi" },
                      limits: { cpu: "200m", memory: "128Mi" }
                    },
                    securityContext: {
                      allowPrivilegeEscalation: false,
                      readOnlyRootFilesystem: true,
                      capabilities: { drop: ["ALL"] }
                    },
                    volumeMounts:
                      ca === undefined ? [] : [{ name: "ca-bundle", mountPath: CaBundleDir, readOnly: true }]
                  }
                ]
              }
            }
          }
        },
        { ...o, dependsOn: [...args.after] }
      )
      new k8s.core.v1.Service(
        e.name,
        {
          metadata,
          spec: {
            type: "ClusterIP",
            selector: { "app.kubernetes.io/name": e.name },
            ports: [{ name: "metrics", port, targetPort: "metrics", protocol: "TCP" }]
          }
        },
        o
      )
      new k8s.apiextensions.CustomResource(
        `${e.name}-monitor`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata,
          spec: {
            selector: { matchLabels: { "app.kubernetes.io/name": e.name } },
            endpoints: [serviceMonitorEndpoint(target)]
          }
        },
        { ...o, dependsOn: [args.monitoring] }
      )
    }
    this.registerOutputs({})
  }
}
