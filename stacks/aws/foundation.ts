// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as ecr from "@pulumi/aws/ecr/index.js"
import * as kms from "@pulumi/aws/kms/index.js"
import { Provider } from "@pulumi/aws/provider.js"
import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import type { AwsConfig, StackConfig } from "../config.js"
import type { Foundation } from "../foundation.js"
import { EksCluster } from "./Cluster.js"
import { RdsDatabase } from "./Database.js"
import { AwsExternalSecrets } from "./ExternalSecretsAws.js"
import { AwsNetwork } from "./Network.js"
import { ElastiCache } from "./Redis.js"
import { AwsSecretStore } from "./SecretsManager.js"

export const AwsProviderName = "aws"
export const StorageClassName = "gp3-encrypted"

/**
 * ingress-nginx's Service becomes an internet-facing Network Load Balancer (layer 4, instance
 * targets): with externalTrafficPolicy Local the client's own address reaches nginx, so the
 * trusted-proxy hops and the geo header stay exactly as on GCP (IngressProxyHops, IngressGeoHeader).
 */
export const NlbServiceAnnotations: Readonly<Record<string, string>> = {
  "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
  "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
  "service.beta.kubernetes.io/aws-load-balancer-backend-protocol": "tcp",
  "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true"
}

/** Cloud layer on AWS: KMS → VPC → EKS → RDS, ElastiCache, Secrets Manager, ECR → storage class. */
export const awsFoundation = (cfg: StackConfig, a: AwsConfig, root: pulumi.ComponentResourceOptions): Foundation => {
  const provider = new Provider(
    AwsProviderName,
    { region: a.region, defaultTags: { tags: { app: "brandme", stack: pulumi.getStack() } } },
    root
  )
  const o = { ...root, provider }
  const clusterName = `brandme-${pulumi.getStack()}`
  // one customer-managed key for the stack: Kubernetes Secrets, volumes, RDS, ElastiCache, Secrets Manager, ECR
  const key = new kms.Key(
    "brandme",
    {
      description: "Brand.Me data at rest",
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: { app: "brandme" }
    },
    o
  )
  const network = new AwsNetwork("brandme", { aws: a, provider, clusterName }, root)
  const cluster = new EksCluster(clusterName, { aws: a, provider, network, kmsKeyArn: key.arn }, root)
  const dataArgs = {
    aws: a,
    provider,
    network,
    kmsKeyArn: key.arn,
    clientSecurityGroupId: cluster.clusterSecurityGroupId
  }
  const database = new RdsDatabase("brandme-pg", dataArgs, root)
  const redis = new ElastiCache("brandme-redis", dataArgs, root)
  const registry = new ecr.Repository(
    "brandme",
    {
      name: "brandme",
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
      tags: { app: "brandme" }
    },
    o
  )
  const s = cfg.secrets
  const secrets = new AwsSecretStore(
    "brandme-secrets",
    {
      provider,
      region: a.region,
      kmsKeyArn: key.arn,
      oidc: cluster.oidc,
      namespaces: { app: cfg.appNamespace, observability: "observability" },
      values: {
        databasePassword: a.databasePassword,
        redisCacheAuth: a.redisCacheAuthToken,
        redisQueueAuth: a.redisQueueAuthToken,
        databaseUrl: database.url,
        redisUrl: redis.cache.url,
        redisQueueUrl: redis.queue.url,
        // every configured application secret (AppSecrets), as is
        ...s
      }
    },
    root
  )

  // The default storage class exists before anything that claims a volume: the platform layer's
  // Kubernetes provider waits for it (Foundation.dependsOn).
  const bootstrap = new k8s.Provider(
    "k8s-cluster-bootstrap",
    { kubeconfig: cluster.kubeconfig, enableServerSideApply: true },
    { ...root, dependsOn: [...cluster.ready] }
  )
  const gp3 = new k8s.storage.v1.StorageClass(
    StorageClassName,
    {
      metadata: {
        name: StorageClassName,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        labels: { "app.kubernetes.io/part-of": "brandme" }
      },
      provisioner: "ebs.csi.aws.com",
      parameters: { type: "gp3", encrypted: "true", kmsKeyId: key.arn, "csi.storage.k8s.io/fstype": "ext4" },
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true
    },
    { ...root, provider: bootstrap }
  )

  const imageRepository = cfg.imageRepository === "" ? registry.repositoryUrl : cfg.imageRepository
  return {
    kubeconfig: cluster.kubeconfig,
    dependsOn: [...cluster.ready, gp3],
    imageRepository,
    managedControlPlane: true,
    ingress: { loadBalancerIp: undefined, serviceAnnotations: NlbServiceAnnotations },
    dataServicesCidr: a.dataServicesCidr,
    // ElastiCache's certificates chain to Amazon's public CA (in Node's trust store); RDS is reached
    // with sslmode=require (encrypted, server not verified, as on Cloud SQL): no bundle to mount
    caBundle: undefined,
    workloadServiceAccountAnnotations: {},
    secrets: (args, opts) =>
      new AwsExternalSecrets("external-secrets", { ...args, region: a.region, readers: secrets.readers }, opts),
    outputs: {
      clusterName: cluster.name,
      vpcId: network.vpcId,
      databaseAddress: database.address,
      redisCacheHost: redis.cache.host,
      redisQueueHost: redis.queue.host,
      imageRepository,
      secretReaderRoles: Object.fromEntries(secrets.readers.map((r) => [r.reader, r.roleArn]))
    }
  }
}
