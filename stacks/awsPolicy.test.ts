import * as pulumi from "@pulumi/pulumi"
import { beforeAll, describe, expect, it } from "vitest"
import { awsNetworkProblems, cidrContains } from "./config.js"
import * as aws from "./offline/awsPolicy.js"
import { expectedReaders } from "./offline/awsSuite.js"
import { mockSecretArn, type RecordedResource, runStack } from "./offline/harness.js"

// The AWS policy checks on deliberately bad input: one prod-aws run, each case plants a fault in a copy
// of it and the check must name the violation it exists for.

let resources: ReadonlyArray<RecordedResource>
beforeAll(async () => {
  resources = (await runStack("prod-aws")).resources
}, 120_000)

const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value })
const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? { ...v } : {})

/** A copy of the run with `edit` applied to the inputs of the resources of `type` (named `name`, if given). */
const planted = (
  type: string,
  edit: (inputs: Record<string, unknown>) => void,
  name?: string
): ReadonlyArray<RecordedResource> =>
  resources.map((r) => {
    if (r.type !== type || (name !== undefined && r.name !== name)) return r
    const inputs = structuredClone(r.inputs)
    edit(inputs)
    return { ...r, inputs }
  })

describe("the AWS checks pass on the prod-aws stack", () => {
  it("all of them", () => {
    expect(aws.checkDataStorePlacement(resources)).toEqual([])
    expect(aws.checkEks(resources)).toEqual([])
    expect(aws.checkRds(resources, { highAvailability: true, deletionProtection: true })).toEqual([])
    expect(aws.checkElastiCache(resources, true)).toEqual([])
    expect(aws.checkSecretReaders(resources, expectedReaders("brandme"), "brandme-secrets-reader-")).toEqual([])
  })
})

describe("the AWS checks catch what they exist for", () => {
  it("a data store in a public subnet (its subnet group names one)", () => {
    const bad = planted(
      aws.T.rdsSubnets,
      (i) => {
        i.subnetIds = ["brandme-public-0-id", "brandme-data-1-id", "brandme-data-2-id"]
      },
      "brandme-pg"
    )
    expect(aws.checkDataStorePlacement(bad)).toEqual([
      "aws:rds/subnetGroup:SubnetGroup brandme-pg: subnet brandme-public-0-id is not private"
    ])
  })

  it("a data subnet routed to the internet gateway, and a database reachable from a CIDR", () => {
    const routed = [
      ...resources,
      {
        ...(resources.find((r) => r.type === aws.T.route) as RecordedResource),
        name: "leak",
        inputs: { routeTableId: "brandme-data-id", destinationCidrBlock: "0.0.0.0/0", gatewayId: "brandme-igw-id" }
      }
    ]
    expect(aws.checkDataStorePlacement(routed)).toEqual(
      expect.arrayContaining([
        "aws:elasticache/subnetGroup:SubnetGroup brandme-redis: subnet brandme-data-0-id is not private"
      ])
    )
    const open = planted(
      aws.T.securityGroup,
      (i) => {
        i.ingress = [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }]
      },
      "brandme-pg-sg"
    )
    expect(aws.checkDataStorePlacement(open)).toEqual([
      "brandme-pg-sg: ingress from CIDR blocks (only the cluster security group may connect)",
      "brandme-pg-sg: ingress rule without a source security group"
    ])
  })

  it("a public, unencrypted, single-AZ database without backups or forced TLS", () => {
    const bad = planted(aws.T.rds, (i) => {
      i.publiclyAccessible = true
      i.storageEncrypted = false
      i.backupRetentionPeriod = 0
      i.multiAz = false
      i.deletionProtection = false
    })
    const noTls = planted(aws.T.rdsParams, (i) => {
      i.parameters = [{ name: "log_min_duration_statement", value: "1000" }]
    })
    expect(aws.checkRds(bad, { highAvailability: true, deletionProtection: true })).toEqual([
      "brandme-pg: publicly accessible",
      "brandme-pg: storage not encrypted with the stack's key",
      "brandme-pg: no automated backups (no point-in-time recovery)",
      "brandme-pg: not Multi-AZ",
      "brandme-pg: no deletion protection"
    ])
    expect(aws.checkRds(noTls, { highAvailability: false, deletionProtection: false })).toEqual([
      "brandme-pg: TLS not enforced (rds.force_ssl)"
    ])
  })

  it("a queue Redis that evicts; one without failover or snapshots; one without AUTH, TLS or encryption", () => {
    const evicts = planted(
      aws.T.redisParams,
      (i) => {
        i.parameters = [{ name: "maxmemory-policy", value: "allkeys-lru" }]
      },
      "brandme-redis-queue"
    )
    expect(aws.checkElastiCache(evicts, false)).toEqual(["no Redis group with maxmemory-policy noeviction (queues)"])
    const fragile = planted(
      aws.T.redis,
      (i) => {
        i.numCacheClusters = 1
        i.automaticFailoverEnabled = false
        i.multiAzEnabled = false
        i.snapshotRetentionLimit = 0
      },
      "brandme-redis-queue"
    )
    expect(aws.checkElastiCache(fragile, false)).toEqual([
      "brandme-redis-queue: queue Redis not Multi-AZ with automatic failover",
      "brandme-redis-queue: queue Redis without persistence (snapshots)"
    ])
    const open = planted(
      aws.T.redis,
      (i) => {
        i.authToken = undefined
        i.transitEncryptionEnabled = false
        i.atRestEncryptionEnabled = false
      },
      "brandme-redis-cache"
    )
    expect(aws.checkElastiCache(open, false)).toEqual([
      "brandme-redis-cache: no AUTH token",
      "brandme-redis-cache: no in-transit TLS",
      "brandme-redis-cache: not encrypted at rest"
    ])
    // an AUTH token in plain text is no better than none
    const plainToken = planted(
      aws.T.redis,
      (i) => {
        i.authToken = "0123456789abcdef0123"
      },
      "brandme-redis-cache"
    )
    expect(aws.checkElastiCache(plainToken, false)).toEqual(["brandme-redis-cache: no AUTH token"])
    expect(
      aws.checkElastiCache(
        planted(aws.T.redis, (i) => {
          i.authToken = secret("0123456789abcdef0123")
        }),
        false
      )
    ).toEqual([])
  })

  it("an EKS API open to the world, without NetworkPolicy enforcement, pods reaching the node's metadata", () => {
    const open = planted(aws.T.eks, (i) => {
      i.vpcConfig = { ...rec(i.vpcConfig), endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] }
      i.encryptionConfig = undefined
    })
    expect(aws.checkEks(open)).toEqual([
      "brandme-prod-aws: public API endpoint open to 0.0.0.0/0",
      "brandme-prod-aws: Kubernetes Secrets not encrypted with KMS"
    ])
    const noPolicies = planted(
      aws.T.addon,
      (i) => {
        i.configurationValues = "{}"
      },
      "brandme-prod-aws-vpc-cni"
    )
    expect(aws.checkEks(noPolicies)).toEqual(["vpc-cni: NetworkPolicy enforcement off (default deny would not hold)"])
    const imds = planted(aws.T.launchTemplate, (i) => {
      i.metadataOptions = { httpTokens: "optional", httpPutResponseHopLimit: 2 }
    })
    expect(aws.checkEks(imds)).toEqual([
      "brandme-prod-aws-nodes: instance metadata reachable from pods (need IMDSv2, hop limit 1)"
    ])
  })

  it("a workload's role reading another workload's secret, a wildcard, a trust for the wrong account", () => {
    const policyOf = (reader: string) =>
      JSON.parse(
        String(
          resources.find((r) => r.type === aws.T.rolePolicy && r.name === `brandme-secrets-reader-${reader}`)?.inputs
            .policy
        )
      )
    const identity = policyOf("identity")
    identity.Statement[0].Resource = [...identity.Statement[0].Resource, mockSecretArn("brandme-chain-signing-key")]
    const extra = planted(
      aws.T.rolePolicy,
      (i) => {
        i.policy = JSON.stringify(identity)
      },
      "brandme-secrets-reader-identity"
    )
    expect(aws.checkSecretReaders(extra, expectedReaders("brandme"), "brandme-secrets-reader-")).toEqual([
      expect.stringMatching(
        /^role brandme-secrets-reader-identity: reads .*brandme-chain-signing-key.*; its own secrets are /
      )
    ])
    const wide = policyOf("gateway")
    wide.Statement[0].Resource = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:brandme-*"
    const wildcard = planted(
      aws.T.rolePolicy,
      (i) => {
        i.policy = JSON.stringify(wide)
      },
      "brandme-secrets-reader-gateway"
    )
    expect(aws.checkSecretReaders(wildcard, expectedReaders("brandme"), "brandme-secrets-reader-")).toEqual([
      expect.stringMatching(/^role brandme-secrets-reader-gateway: reads arn:.*brandme-\*; its own secrets are /),
      "role brandme-secrets-reader-gateway: wildcard resource"
    ])
    const trust = planted(
      aws.T.role,
      (i) => {
        i.assumeRolePolicy = String(i.assumeRolePolicy).replace("brandme-secrets-chain", "brandme-workloads")
      },
      "brandme-secrets-reader-chain"
    )
    expect(aws.checkSecretReaders(trust, expectedReaders("brandme"), "brandme-secrets-reader-")).toEqual([
      "role brandme-secrets-reader-chain: trusts system:serviceaccount:brandme:brandme-workloads, not system:serviceaccount:brandme:brandme-secrets-chain"
    ])
  })
})

describe("cloud aws network config", () => {
  const ok = {
    availabilityZones: ["a", "b", "c"],
    vpcCidr: "10.30.0.0/16",
    privateSubnetCidrs: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"],
    publicSubnetCidrs: ["10.30.96.0/24", "10.30.97.0/24", "10.30.98.0/24"],
    dataSubnetCidrs: ["10.30.112.0/24", "10.30.113.0/24", "10.30.114.0/24"],
    dataServicesCidr: "10.30.112.0/22"
  }

  it("accepts the stack files' plan and refuses an allow-list that opens the node subnets", () => {
    expect(cidrContains("10.30.112.0/22", "10.30.114.0/24")).toBe(true)
    expect(cidrContains("10.30.112.0/22", "10.30.116.0/24")).toBe(false)
    expect(awsNetworkProblems(ok)).toEqual([])
    expect(awsNetworkProblems({ ...ok, dataServicesCidr: "10.30.0.0/16" })).toEqual([
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.0.0/19",
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.32.0/19",
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.64.0/19",
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.96.0/24",
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.97.0/24",
      "dataServicesCidr 10.30.0.0/16 overlaps the node/public subnet 10.30.98.0/24"
    ])
    expect(
      awsNetworkProblems({
        ...ok,
        availabilityZones: ["a", "b"],
        dataSubnetCidrs: ["10.30.112.0/24", "10.31.0.0/24", "10.30.112.0/25"]
      })
    ).toEqual([
      "awsAvailabilityZones must name three zones",
      "awsPrivateSubnetCidrs must have one CIDR per availability zone",
      "awsPublicSubnetCidrs must have one CIDR per availability zone",
      "awsDataSubnetCidrs must have one CIDR per availability zone",
      "awsDataSubnetCidrs: 10.31.0.0/24 is not inside awsVpcCidr 10.30.0.0/16",
      "awsDataSubnetCidrs: 10.31.0.0/24 is not inside dataServicesCidr 10.30.112.0/22",
      "subnets 10.30.112.0/24 and 10.30.112.0/25 overlap"
    ])
  })
})
