import type * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { monitorRelabelings, targetOf } from "../../observability/targets.js"
import { Charts } from "../charts.js"
import { release } from "./helm.js"

export interface NatsArgs {
  readonly provider: k8s.Provider
  readonly namespace: k8s.core.v1.Namespace
  /** the Prometheus operator's CRDs (the chart creates a PodMonitor) */
  readonly monitoring: pulumi.Resource
}

export const NatsPodLabels = { "app.kubernetes.io/name": "nats" } as const
/** the port name of the chart's prometheus-nats-exporter container (its PodMonitor scrapes it) */
export const NatsExporterPortName = "prom-metrics"

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] }
}

/** NATS with JetStream: a 3-node cluster, 10Gi file store per node, pods hardened like ours. */
export class Nats extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>
  readonly release: k8s.helm.v3.Release

  constructor(name: string, args: NatsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Nats", name, {}, opts)
    const namespace = args.namespace.metadata.name
    this.release = release(
      "nats",
      {
        chart: Charts.nats,
        namespace,
        values: {
          config: {
            cluster: { enabled: true, replicas: 3 },
            jetstream: { enabled: true, fileStore: { enabled: true, pvc: { enabled: true, size: "10Gi" } } },
            monitor: { enabled: true }
          },
          container: { merge: { securityContext: restrictedContainer } },
          reloader: { merge: { securityContext: restrictedContainer } },
          promExporter: {
            enabled: true,
            // the exporter reads the server's monitoring endpoint (:8222); its PodMonitor carries our labels
            podMonitor: {
              enabled: true,
              merge: {
                spec: {
                  podMetricsEndpoints: [
                    { port: NatsExporterPortName, relabelings: [...monitorRelabelings(targetOf("nats-exporter"))] }
                  ]
                }
              }
            },
            merge: { securityContext: restrictedContainer }
          },
          podTemplate: {
            merge: {
              spec: {
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  runAsGroup: 1000,
                  fsGroup: 1000,
                  seccompProfile: { type: "RuntimeDefault" }
                }
              }
            },
            topologySpreadConstraints: {
              "kubernetes.io/hostname": { maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" }
            }
          },
          natsBox: { enabled: false }
        }
      },
      { parent: this, provider: args.provider, dependsOn: [args.namespace, args.monitoring] }
    )
    this.url = pulumi.interpolate`nats://nats.${namespace}.svc.cluster.local:4222`
    this.registerOutputs({ url: this.url })
  }
}
