import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { serviceMonitorEndpoint, targetOf } from "../../observability/targets.js"
import { HealthPaths, MetricsPortName, MetricsPorts, Services } from "../../shared/ServiceCatalog.js"
import type { WorkloadSpec } from "../workloads.js"
import { type PodShape, podSpec } from "./pod.js"

export interface WorkloadArgs {
  readonly provider: k8s.Provider
  readonly namespace: pulumi.Input<string>
  readonly spec: WorkloadSpec
  readonly pod: PodShape
  /** the migration Job and the Secrets: the rollout waits for both */
  readonly after: ReadonlyArray<pulumi.Resource>
  readonly monitoring: pulumi.Resource
}

/** the pod label naming its service (every workload of it: the orchestrator's worker and beat alike) */
export const ServiceLabel = "app.kubernetes.io/component"

export const labelsFor = (name: string, service: string): Record<string, string> => ({
  "app.kubernetes.io/name": name,
  [ServiceLabel]: service,
  "app.kubernetes.io/part-of": "brandme"
})

/** One service process: Deployment, Service, ServiceMonitor, and an HPA / PDB where it scales. */
export class Workload extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Workload", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const { spec } = args
    const port = Services[spec.service].port
    const metricsPort = MetricsPorts[spec.service]
    const labels = labelsFor(spec.name, spec.service)
    const metadata = { name: spec.name, namespace: args.namespace, labels }
    const probe = (path: string, failureThreshold: number) => ({
      httpGet: { path, port: "http" },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold
    })

    const base = podSpec(args.pod, {
      name: spec.name,
      env: { SERVICE: spec.service, ...spec.extraEnv },
      secretsOf: spec.service,
      resources: spec.resources
    })
    this.deployment = new k8s.apps.v1.Deployment(
      spec.name,
      {
        metadata,
        spec: {
          replicas: spec.replicas,
          revisionHistoryLimit: 5,
          selector: { matchLabels: { "app.kubernetes.io/name": spec.name } },
          strategy: spec.singleton
            ? { type: "Recreate" }
            : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels },
            spec: {
              ...base,
              topologySpreadConstraints:
                spec.replicas > 1
                  ? [
                      {
                        maxSkew: 1,
                        topologyKey: "topology.kubernetes.io/zone",
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: { matchLabels: { "app.kubernetes.io/name": spec.name } }
                      }
                    ]
                  : [],
              containers: base.containers.map((c) => ({
                ...c,
                ports: [
                  { name: "http", containerPort: port, protocol: "TCP" },
                  { name: MetricsPortName, containerPort: metricsPort, protocol: "TCP" }
                ],
                startupProbe: probe(HealthPaths.startup, 30),
                livenessProbe: probe(HealthPaths.live, 3),
                readinessProbe: probe(HealthPaths.ready, 3)
              }))
            }
          }
        }
      },
      // once an HPA owns the replica count, a later `pulumi up` must not reset it
      {
        ...o,
        dependsOn: [...args.after],
        ...(spec.autoscale === undefined ? {} : { ignoreChanges: ["spec.replicas"] })
      }
    )

    new k8s.core.v1.Service(
      spec.name,
      {
        metadata,
        spec: {
          type: "ClusterIP",
          selector: { "app.kubernetes.io/name": spec.name },
          ports: [
            { name: "http", port, targetPort: "http", protocol: "TCP" },
            { name: MetricsPortName, port: metricsPort, targetPort: MetricsPortName, protocol: "TCP" }
          ]
        }
      },
      o
    )

    if (spec.autoscale !== undefined) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(
        spec.name,
        {
          metadata,
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: spec.name },
            minReplicas: spec.autoscale.min,
            maxReplicas: spec.autoscale.max,
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }
            ]
          }
        },
        { ...o, dependsOn: [this.deployment] }
      )
    }

    const minReplicas = spec.autoscale?.min ?? spec.replicas
    if (minReplicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        spec.name,
        { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": spec.name } } } },
        o
      )
    }

    new k8s.apiextensions.CustomResource(
      `${spec.name}-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata,
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": spec.name } },
          // labels (job, tier, service) as the local scrape config gives them: observability/targets.ts
          endpoints: [serviceMonitorEndpoint(targetOf(spec.service))]
        }
      },
      { ...o, dependsOn: [args.monitoring] }
    )
    this.registerOutputs({})
  }
}
