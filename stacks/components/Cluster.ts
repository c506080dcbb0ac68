// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as container from "@pulumi/gcp/container/index.js"
import * as projects from "@pulumi/gcp/projects/index.js"
import * as serviceaccount from "@pulumi/gcp/serviceaccount/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { GcpConfig } from "../config.js"
import type { Network } from "./Network.js"

export interface ClusterArgs {
  readonly gcp: GcpConfig
  readonly provider: Provider
  readonly network: Network
  readonly deletionProtection: boolean
}

/**
 * GKE with private nodes, workload identity, Dataplane V2 (which enforces NetworkPolicies),
 * a release channel, and one autoscaling node pool: regional in prod, zonal elsewhere.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>
  readonly location: string
  readonly kubeconfig: pulumi.Output<string>
  readonly workloadPool: string

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:GkeCluster", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const g = args.gcp
    this.location = g.regionalCluster ? g.region : g.zone
    this.workloadPool = `${g.project}.svc.id.goog`

    // nodes run as a minimal service account, never the default compute one
    const nodeSa = new serviceaccount.Account(
      `${name}-nodes`,
      { accountId: `${name}-nodes`, displayName: "GKE nodes (logs, metrics, image pulls)" },
      o
    )
    for (const role of [
      "roles/logging.logWriter",
      "roles/monitoring.metricWriter",
      "roles/monitoring.viewer",
      "roles/artifactregistry.reader"
    ]) {
      new projects.IAMMember(
        `${name}-nodes-${role.split("/")[1]}`,
        { project: g.project, role, member: pulumi.interpolate`serviceAccount:${nodeSa.email}` },
        o
      )
    }

    const cluster = new container.Cluster(
      name,
      {
        location: this.location,
        network: args.network.networkSelfLink,
        subnetwork: args.network.subnetSelfLink,
        // node pools are managed separately so they can change without replacing the cluster
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        releaseChannel: { channel: g.releaseChannel },
        workloadIdentityConfig: { workloadPool: this.workloadPool },
        datapathProvider: "ADVANCED_DATAPATH",
        ipAllocationPolicy: {
          clusterSecondaryRangeName: args.network.podsRangeName,
          servicesSecondaryRangeName: args.network.servicesRangeName
        },
        privateClusterConfig: {
          enablePrivateNodes: true,
          // the endpoint stays reachable for operators and CI, but only from the authorized networks
          enablePrivateEndpoint: false,
          masterIpv4CidrBlock: g.masterCidr
        },
        masterAuthorizedNetworksConfig: {
          cidrBlocks: g.masterAuthorizedNetworks.map((cidrBlock, i) => ({ cidrBlock, displayName: `operators-${i}` }))
        },
        enableShieldedNodes: true,
        deletionProtection: args.deletionProtection,
        loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS", "WORKLOADS"] },
        monitoringConfig: { enableComponents: ["SYSTEM_COMPONENTS"] },
        addonsConfig: { httpLoadBalancing: { disabled: false } }
      },
      o
    )

    new container.NodePool(
      `${name}-pool`,
      {
        cluster: cluster.name,
        location: this.location,
        autoscaling: { minNodeCount: g.nodeMinCount, maxNodeCount: g.nodeMaxCount },
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
          machineType: g.nodeMachineType,
          diskType: "pd-balanced",
          diskSizeGb: 100,
          serviceAccount: nodeSa.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          workloadMetadataConfig: { mode: "GKE_METADATA" },
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
          labels: { pool: "default" }
        }
      },
      o
    )

    this.name = cluster.name
    // kubectl and the Kubernetes provider authenticate through gke-gcloud-auth-plugin: no static credentials in state
    this.kubeconfig = pulumi.secret(
      pulumi.interpolate`apiVersion: v1
kind: Config
clusters:
- name: ${cluster.name}
  cluster:
    server: https://${cluster.endpoint}
    certificate-authority-data: ${cluster.masterAuth.clusterCaCertificate}
contexts:
- name: ${cluster.name}
  context:
    cluster: ${cluster.name}
    user: ${cluster.name}
current-context: ${cluster.name}
users:
- name: ${cluster.name}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      provideClusterInfo: true
      installHint: "gcloud components install gke-gcloud-auth-plugin"
`
    )
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig })
  }
}
