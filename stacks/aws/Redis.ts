// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as ec2 from "@pulumi/aws/ec2/index.js"
import * as elasticache from "@pulumi/aws/elasticache/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { AwsConfig } from "../config.js"
import type { AwsNetwork } from "./Network.js"

export interface ElastiCacheArgs {
  readonly aws: AwsConfig
  readonly provider: Provider
  readonly network: AwsNetwork
  readonly kmsKeyArn: pulumi.Input<string>
  /** the EKS cluster security group: the only source admitted on 6379 */
  readonly clientSecurityGroupId: pulumi.Input<string>
}

export interface RedisGroup {
  readonly host: pulumi.Output<string>
  /** rediss://:token@host:6379, a secret */
  readonly url: pulumi.Output<string>
}

/**
 * Two ElastiCache for Redis OSS 7.1 replication groups in the data subnets, both with AUTH and TLS
 * in transit and encryption at rest (the stack's KMS key):
 * - cache: `allkeys-lru`, no snapshots; a replica with automatic failover only with redisTier STANDARD_HA.
 * - queue: `noeviction`, always a primary and a replica in another zone, Multi-AZ with automatic failover,
 *   and daily snapshots. ElastiCache has no AOF for replicated Redis 7 (append-only files exist only
 *   for old, single-node engines): what survives a failover is what the replica had received (async
 *   replication, normally well under a second of writes can be lost); what survives losing the whole
 *   group is the last daily snapshot.
 */
export class ElastiCache extends pulumi.ComponentResource {
  readonly cache: RedisGroup
  readonly queue: RedisGroup

  constructor(name: string, args: ElastiCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:ElastiCache", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const a = args.aws

    const subnets = new elasticache.SubnetGroup(
      name,
      {
        subnetIds: [...args.network.dataSubnetIds],
        description: "Brand.Me Redis: data subnets only",
        tags: { app: "brandme" }
      },
      o
    )
    const sg = new ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.network.vpcId,
        description: "Brand.Me Redis: 6379 from the EKS cluster security group only",
        ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, securityGroups: [args.clientSecurityGroupId] }],
        egress: [],
        tags: { app: "brandme" }
      },
      o
    )
    const group = (
      role: "cache" | "queue",
      policy: "allkeys-lru" | "noeviction",
      authToken: pulumi.Output<string>,
      replicated: boolean,
      snapshotDays: number
    ): RedisGroup => {
      const params = new elasticache.ParameterGroup(
        `${name}-${role}`,
        {
          family: "redis7",
          description: `Brand.Me ${role}: maxmemory-policy ${policy}`,
          parameters: [{ name: "maxmemory-policy", value: policy }],
          tags: { app: "brandme", role }
        },
        o
      )
      const rg = new elasticache.ReplicationGroup(
        `${name}-${role}`,
        {
          replicationGroupId: `${name}-${role}`,
          description: `Brand.Me ${role} (maxmemory-policy ${policy})`,
          engine: "redis",
          engineVersion: "7.1",
          nodeType: a.redisNodeType,
          port: 6379,
          numCacheClusters: replicated ? 2 : 1,
          automaticFailoverEnabled: replicated,
          multiAzEnabled: replicated,
          preferredCacheClusterAzs: a.availabilityZones.slice(0, replicated ? 2 : 1),
          parameterGroupName: params.name,
          subnetGroupName: subnets.name,
          securityGroupIds: [sg.id],
          atRestEncryptionEnabled: true,
          kmsKeyId: args.kmsKeyArn,
          transitEncryptionEnabled: true,
          transitEncryptionMode: "required",
          authToken: pulumi.secret(authToken),
          snapshotRetentionLimit: snapshotDays,
          ...(snapshotDays > 0 ? { snapshotWindow: "01:00-02:00" } : {}),
          maintenanceWindow: "sun:04:00-sun:05:00",
          autoMinorVersionUpgrade: true,
          applyImmediately: false,
          tags: { app: "brandme", role }
        },
        o
      )
      const host = rg.primaryEndpointAddress
      return {
        host,
        url: pulumi.secret(pulumi.interpolate`rediss://:${authToken.apply(encodeURIComponent)}@${host}:6379`)
      }
    }
    this.cache = group("cache", "allkeys-lru", a.redisCacheAuthToken, a.redisTier === "STANDARD_HA", 0)
    // the queue holds accepted scans until they are persisted: it survives a node failure in every stack
    this.queue = group("queue", "noeviction", a.redisQueueAuthToken, true, a.redisSnapshotRetentionDays)
    this.registerOutputs({ cacheHost: this.cache.host, queueHost: this.queue.host })
  }
}
