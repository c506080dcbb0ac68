import type * as k8s from "@pulumi/kubernetes"
import type * as pulumi from "@pulumi/pulumi"
import type { SecretNamespace } from "./secrets.js"

/** What a cloud's in-cluster secret delivery needs from the platform layer. */
export interface SecretDeliveryArgs {
  readonly provider: k8s.Provider
  readonly namespaceFor: (ns: SecretNamespace) => pulumi.Input<string>
  /** the namespaces the Secrets go into */
  readonly after: ReadonlyArray<pulumi.Resource>
  /** the monitoring operator (owner of the ServiceMonitor CRD a chart may use) */
  readonly monitoring: pulumi.Resource
}

export interface SecretDelivery {
  /** what pods must wait for: the Kubernetes Secrets of secrets.ts exist once these are ready */
  readonly ready: ReadonlyArray<pulumi.Resource>
}

/**
 * What the platform layer needs from below — a cluster, an image location, where the data lives,
 * how the Kubernetes Secrets of secrets.ts come to exist — and nothing about which cloud gives it.
 * Every cloud (gcp, aws, an existing cluster) implements this; program.ts builds the platform on it.
 */
export interface Foundation {
  readonly kubeconfig: pulumi.Output<string>
  /** the platform layer's Kubernetes provider waits for these (the cluster, its node groups, its storage classes) */
  readonly dependsOn: ReadonlyArray<pulumi.Resource>
  readonly imageRepository: pulumi.Input<string>
  /** the cloud runs the control plane (no etcd, scheduler or controller-manager to scrape) */
  readonly managedControlPlane: boolean
  readonly ingress: {
    /** a reserved address for the ingress load balancer, where the cloud has one */
    readonly loadBalancerIp: pulumi.Input<string> | undefined
    /** annotations on the ingress controller's LoadBalancer Service (which load balancer the cloud makes) */
    readonly serviceAnnotations: Readonly<Record<string, string>>
  }
  /** where Postgres and Redis live: the pods' egress NetworkPolicy allows only this range to them */
  readonly dataServicesCidr: string
  /** CA certificates the data services' server certificates chain to, when not publicly trusted */
  readonly caBundle: pulumi.Input<string> | undefined
  /** annotations of the workloads' Kubernetes service account (GKE workload identity) */
  readonly workloadServiceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>
  /** creates the in-cluster half of the secret store: the Kubernetes Secrets the pods read */
  readonly secrets: (args: SecretDeliveryArgs, opts: pulumi.ComponentResourceOptions) => SecretDelivery
  readonly outputs: Record<string, pulumi.Input<unknown>>
}
