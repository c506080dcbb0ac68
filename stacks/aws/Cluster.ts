// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as ec2 from "@pulumi/aws/ec2/index.js"
import * as eks from "@pulumi/aws/eks/index.js"
import * as iam from "@pulumi/aws/iam/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { AwsConfig } from "../config.js"
import { irsaRole, type OidcIssuer, servicePrincipalPolicy } from "./irsa.js"
import type { AwsNetwork } from "./Network.js"

export interface EksClusterArgs {
  readonly aws: AwsConfig
  readonly provider: Provider
  readonly network: AwsNetwork
  /** the stack's KMS key: Kubernetes Secrets envelope encryption, the EBS CSI driver's volumes */
  readonly kmsKeyArn: pulumi.Input<string>
}

const managed = (policy: string) => `arn:aws:iam::aws:policy/${policy}`

/**
 * EKS on the private subnets with raw @pulumi/aws resources: the control plane (Secrets encrypted
 * with the stack's KMS key, audit logs, API endpoint private or limited to the authorized networks),
 * the OIDC provider for IRSA, one managed node group per zone (IMDSv2 with hop limit 1, so pods cannot
 * borrow the node's role; encrypted gp3 root volumes), and the add-ons: VPC CNI with NetworkPolicy
 * enforcement on, CoreDNS, kube-proxy and the EBS CSI driver (its own IRSA role).
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>
  readonly kubeconfig: pulumi.Output<string>
  readonly oidc: OidcIssuer
  /** the security group EKS gives the control plane and the managed nodes: data stores admit it */
  readonly clusterSecurityGroupId: pulumi.Output<string>
  /** what the platform layer waits for: node groups and add-ons */
  readonly ready: ReadonlyArray<pulumi.Resource>

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:EksCluster", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const a = args.aws

    const clusterRole = new iam.Role(
      `${name}-control-plane`,
      { assumeRolePolicy: servicePrincipalPolicy("eks.amazonaws.com"), tags: { app: "brandme" } },
      o
    )
    const clusterPolicy = new iam.RolePolicyAttachment(
      `${name}-control-plane`,
      { role: clusterRole.name, policyArn: managed("AmazonEKSClusterPolicy") },
      o
    )

    const cluster = new eks.Cluster(
      name,
      {
        name,
        version: a.eksVersion,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: [...args.network.privateSubnetIds],
          endpointPrivateAccess: true,
          endpointPublicAccess: !a.eksPrivateEndpointOnly,
          ...(a.eksPrivateEndpointOnly ? {} : { publicAccessCidrs: [...a.masterAuthorizedNetworks] })
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { provider: { keyArn: args.kmsKeyArn }, resources: ["secrets"] },
        enabledClusterLogTypes: ["api", "audit", "authenticator"],
        // the add-ons below are managed by us, with our settings
        bootstrapSelfManagedAddons: false,
        deletionProtection: a.dbDeletionProtection,
        upgradePolicy: { supportType: "STANDARD" },
        tags: { app: "brandme" }
      },
      { ...o, dependsOn: [clusterPolicy] }
    )

    const issuer = cluster.identities.apply((ids) => ids[0]?.oidcs[0]?.issuer ?? "")
    const oidcProvider = new iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags: { app: "brandme" } },
      o
    )
    this.oidc = { providerArn: oidcProvider.arn, issuerHost: issuer.apply((u) => u.replace(/^https:\/\//, "")) }

    // ---- nodes
    const nodeRole = new iam.Role(
      `${name}-nodes`,
      { assumeRolePolicy: servicePrincipalPolicy("ec2.amazonaws.com"), tags: { app: "brandme" } },
      o
    )
    const nodePolicies = [
      "AmazonEKSWorkerNodePolicy",
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonEKS_CNI_Policy"
    ].map((p) => new iam.RolePolicyAttachment(`${name}-nodes-${p}`, { role: nodeRole.name, policyArn: managed(p) }, o))
    const template = new ec2.LaunchTemplate(
      `${name}-nodes`,
      {
        description: "Brand.Me EKS nodes: IMDSv2 only, encrypted gp3 root volume",
        // hop limit 1: a pod (one hop further) cannot reach the instance metadata service and the node's role
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            // encrypted with the AWS-managed EBS key: Auto Scaling launches the nodes through its service-linked
            // role, which a customer-managed key's policy would have to name (and it may not exist yet)
            ebs: { volumeSize: 100, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" }
          }
        ],
        tagSpecifications: [{ resourceType: "instance", tags: { app: "brandme", Name: `${name}-node` } }]
      },
      o
    )

    // the VPC CNI first: nodes do not become Ready without it
    const cni = new eks.Addon(
      `${name}-vpc-cni`,
      {
        clusterName: cluster.name,
        addonName: "vpc-cni",
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        // the CNI's network policy agent enforces the platform's NetworkPolicies (default deny included)
        configurationValues: JSON.stringify({ enableNetworkPolicy: "true" })
      },
      o
    )
    const kubeProxy = new eks.Addon(
      `${name}-kube-proxy`,
      { clusterName: cluster.name, addonName: "kube-proxy", resolveConflictsOnCreate: "OVERWRITE" },
      o
    )

    const nodeGroups = args.network.privateSubnetIds.map(
      (subnetId, i) =>
        new eks.NodeGroup(
          `${name}-nodes-${i}`,
          {
            clusterName: cluster.name,
            nodeGroupNamePrefix: `${name}-${a.availabilityZones[i] ?? i}-`,
            nodeRoleArn: nodeRole.arn,
            // one group per zone: each zone keeps its own minimum, like GKE's per-zone node counts
            subnetIds: [subnetId],
            instanceTypes: [...a.nodeInstanceTypes],
            amiType: "AL2023_x86_64_STANDARD",
            capacityType: "ON_DEMAND",
            scalingConfig: { minSize: a.nodeMinCount, desiredSize: a.nodeMinCount, maxSize: a.nodeMaxCount },
            updateConfig: { maxUnavailable: 1 },
            launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
            labels: { pool: "default" },
            tags: { app: "brandme" }
          },
          // the desired size belongs to the autoscaler once nodes run
          { ...o, dependsOn: [...nodePolicies, cni, kubeProxy], ignoreChanges: ["scalingConfig.desiredSize"] }
        )
    )

    const coredns = new eks.Addon(
      `${name}-coredns`,
      { clusterName: cluster.name, addonName: "coredns", resolveConflictsOnCreate: "OVERWRITE" },
      { ...o, dependsOn: nodeGroups }
    )
    const ebsRole = irsaRole(
      `${name}-ebs-csi`,
      {
        oidc: this.oidc,
        namespace: "kube-system",
        serviceAccount: "ebs-csi-controller-sa",
        description: "EBS CSI driver: create, attach and encrypt volumes"
      },
      o
    )
    const ebsPolicy = new iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: ebsRole.name, policyArn: managed("service-role/AmazonEBSCSIDriverPolicy") },
      o
    )
    // volumes are encrypted with the stack's key: the driver may use it for EBS, through EC2 only
    new iam.RolePolicy(
      `${name}-ebs-csi-kms`,
      {
        role: ebsRole.name,
        policy: pulumi.output(args.kmsKeyArn).apply((key) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: [
                  "kms:CreateGrant",
                  "kms:Decrypt",
                  "kms:DescribeKey",
                  "kms:Encrypt",
                  "kms:GenerateDataKey*",
                  "kms:ReEncrypt*"
                ],
                Resource: key,
                Condition: { StringEquals: { "kms:ViaService": `ec2.${a.region}.amazonaws.com` } }
              }
            ]
          })
        )
      },
      o
    )
    const ebs = new eks.Addon(
      `${name}-ebs-csi`,
      {
        clusterName: cluster.name,
        addonName: "aws-ebs-csi-driver",
        serviceAccountRoleArn: ebsRole.arn,
        resolveConflictsOnCreate: "OVERWRITE"
      },
      { ...o, dependsOn: [...nodeGroups, ebsPolicy] }
    )

    this.name = cluster.name
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId)
    this.ready = [cluster, ...nodeGroups, coredns, ebs]
    // kubectl and the Kubernetes provider get a token from the AWS CLI: no static credentials in state
    this.kubeconfig = pulumi.secret(
      pulumi.interpolate`apiVersion: v1
kind: Config
clusters:
- name: ${cluster.name}
  cluster:
    server: ${cluster.endpoint}
    certificate-authority-data: ${cluster.certificateAuthority.data}
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
      command: aws
      args: ["eks", "get-token", "--cluster-name", "${cluster.name}", "--region", "${a.region}", "--output", "json"]
      installHint: "install the AWS CLI v2 and sign in (aws sso login / AWS_PROFILE)"
`
    )
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig })
  }
}
