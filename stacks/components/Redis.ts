// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as redis from "@pulumi/gcp/redis/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { GcpConfig } from "../config.js"
import type { Network } from "./Network.js"

export interface RedisArgs {
  readonly gcp: GcpConfig
  readonly provider: Provider
  readonly network: Network
}

export interface RedisEndpoint {
  readonly host: pulumi.Output<string>
  readonly port: pulumi.Output<number>
  readonly authString: pulumi.Output<string>
  /** rediss://:<auth>@host:port: a secret */
  readonly url: pulumi.Output<string>
  readonly caCert: pulumi.Output<string>
}

/**
 * Two Memorystore instances: a cache that may evict (allkeys-lru) and a queue store that must
 * never evict (BullMQ loses jobs otherwise). AUTH and in-transit TLS on both. The queue store holds
 * accepted scans until they are persisted, so in every stack it is STANDARD_HA (a replica in another
 * zone, automatic failover) with RDB snapshots (hourly: Memorystore for Redis offers no AOF), and what
 * can still be lost is written down in docs/orchestrator.md ("Queue durability"). The cache follows
 * the stack's `redisTier` and keeps nothing on disk.
 */
export class Redis extends pulumi.ComponentResource {
  readonly cache: RedisEndpoint
  readonly queue: RedisEndpoint

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:Redis", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const make = (
      role: "cache" | "queue",
      memoryGb: number,
      policy: string,
      durability: Pick<redis.InstanceArgs, "tier" | "persistenceConfig">
    ): RedisEndpoint => {
      const instance = new redis.Instance(
        `${name}-${role}`,
        {
          region: args.gcp.region,
          ...durability,
          memorySizeGb: memoryGb,
          redisVersion: "REDIS_7_0",
          authorizedNetwork: args.network.networkId,
          connectMode: "PRIVATE_SERVICE_ACCESS",
          authEnabled: true,
          transitEncryptionMode: "SERVER_AUTHENTICATION",
          redisConfigs: { "maxmemory-policy": policy },
          displayName: `brandme ${role}`,
          labels: { role }
        },
        { ...o, dependsOn: [args.network.privateServiceAccess] }
      )
      const authString = pulumi.secret(instance.authString)
      return {
        host: instance.host,
        port: instance.port,
        authString,
        url: pulumi.secret(
          pulumi.interpolate`rediss://:${authString.apply(encodeURIComponent)}@${instance.host}:${instance.port}`
        ),
        caCert: instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert).join("\n"))
      }
    }
    this.cache = make("cache", args.gcp.redisCacheMemoryGb, "allkeys-lru", {
      tier: args.gcp.redisTier,
      persistenceConfig: { persistenceMode: "DISABLED" }
    })
    this.queue = make("queue", args.gcp.redisQueueMemoryGb, "noeviction", {
      tier: "STANDARD_HA",
      persistenceConfig: { persistenceMode: "RDB", rdbSnapshotPeriod: "ONE_HOUR" }
    })
    this.registerOutputs({ cacheHost: this.cache.host, queueHost: this.queue.host })
  }
}
