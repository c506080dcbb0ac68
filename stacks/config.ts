import * as pulumi from "@pulumi/pulumi"

/**
 * The one typed view of the stack configuration. Every key read here is documented, with its
 * default, in the `config:` block of Pulumi.yaml; the CLI applies those defaults, and the offline
 * harness (stacks/offline/harness.ts) applies them the same way, so no default is repeated here.
 */

export type CloudKind = "gcp" | "aws" | "existing"
export type AppEnv = "development" | "staging" | "production"
export type WorkloadProfile = "minimal" | "production"

export interface GcpConfig {
  readonly project: string
  readonly region: string
  readonly zone: string
  /** regional control plane and node pools (prod); zonal otherwise */
  readonly regionalCluster: boolean
  readonly releaseChannel: "RAPID" | "REGULAR" | "STABLE"
  readonly masterAuthorizedNetworks: ReadonlyArray<string>
  readonly subnetCidr: string
  readonly podsCidr: string
  readonly servicesCidr: string
  readonly masterCidr: string
  readonly privateServiceCidr: string
  readonly nodeMachineType: string
  readonly nodeMinCount: number
  readonly nodeMaxCount: number
  readonly dbTier: string
  readonly dbDiskSizeGb: number
  readonly dbHighAvailability: boolean
  readonly dbPointInTimeRecovery: boolean
  readonly dbDeletionProtection: boolean
  readonly redisTier: "BASIC" | "STANDARD_HA"
  readonly redisCacheMemoryGb: number
  readonly redisQueueMemoryGb: number
  readonly databasePassword: pulumi.Output<string>
}

export interface AwsConfig {
  readonly region: string
  /** three zones: subnets, node groups, Multi-AZ standbys and replicas spread over them */
  readonly availabilityZones: ReadonlyArray<string>
  readonly vpcCidr: string
  /** nodes and pods (VPC CNI): one per zone, egress through NAT */
  readonly privateSubnetCidrs: ReadonlyArray<string>
  /** NAT gateways and the ingress NLB: one per zone */
  readonly publicSubnetCidrs: ReadonlyArray<string>
  /** RDS and ElastiCache only: one per zone, no route to the internet in either direction */
  readonly dataSubnetCidrs: ReadonlyArray<string>
  /** contains every data subnet and no node subnet: the pods' egress NetworkPolicy allow-list */
  readonly dataServicesCidr: string
  /** one NAT gateway for the VPC (dev) instead of one per zone */
  readonly singleNatGateway: boolean
  readonly eksVersion: string
  /** the EKS API only inside the VPC; otherwise also public, from masterAuthorizedNetworks only */
  readonly eksPrivateEndpointOnly: boolean
  readonly masterAuthorizedNetworks: ReadonlyArray<string>
  readonly nodeInstanceTypes: ReadonlyArray<string>
  readonly nodeMinCount: number
  readonly nodeMaxCount: number
  readonly dbInstanceClass: string
  readonly dbDiskSizeGb: number
  /** RDS Multi-AZ (a synchronous standby in another zone) */
  readonly dbHighAvailability: boolean
  readonly dbBackupRetentionDays: number
  readonly dbDeletionProtection: boolean
  readonly redisNodeType: string
  /** STANDARD_HA: the cache group gets a replica with automatic failover too (the queue group always has one) */
  readonly redisTier: "BASIC" | "STANDARD_HA"
  readonly redisSnapshotRetentionDays: number
  readonly databasePassword: pulumi.Output<string>
  readonly redisCacheAuthToken: pulumi.Output<string>
  readonly redisQueueAuthToken: pulumi.Output<string>
}

export interface ExistingClusterConfig {
  readonly kubeconfig: pulumi.Output<string>
  readonly databaseUrl: pulumi.Output<string>
  readonly redisUrl: pulumi.Output<string>
  readonly redisQueueUrl: pulumi.Output<string>
  /** where Postgres and Redis live, for the egress NetworkPolicy */
  readonly dataServicesCidr: string
}

/** Application secrets, present in every stack; set with `pulumi config set --secret`. */
export interface AppSecrets {
  readonly jwtSecret: pulumi.Output<string>
  readonly jwtPrivateKey: pulumi.Output<string>
  readonly jwtPublicKey: pulumi.Output<string>
  readonly auditSigningKey: pulumi.Output<string>
  readonly chainSigningKey: pulumi.Output<string>
  readonly blockfrostProjectId: pulumi.Output<string>
  readonly piiMasterKey: pulumi.Output<string>
  readonly webhookSigningSecret: pulumi.Output<string>
  readonly serviceTokenKey: pulumi.Output<string>
  readonly grafanaAdminPassword: pulumi.Output<string>
  readonly pagerdutyRoutingKey: pulumi.Output<string>
  readonly slackWebhookUrl: pulumi.Output<string>
}

export interface AppSettings {
  readonly appEnv: AppEnv
  readonly logLevel: string
  readonly databasePoolMax: number
  readonly databaseSsl: "disable" | "require" | "verify-full"
  readonly auditLogOrigin: string
  readonly chainProvider: "local" | "blockfrost" | "ogmios"
  readonly chainNetwork: "preprod" | "preview" | "mainnet"
  readonly blockfrostUrl: string
  readonly ogmiosUrl: string
  readonly httpMaxBodyBytes: number
  readonly shutdownGraceMs: number
}

export interface StackConfig {
  readonly cloud: CloudKind
  readonly gcp: GcpConfig | undefined
  readonly aws: AwsConfig | undefined
  readonly existing: ExistingClusterConfig | undefined
  readonly appNamespace: string
  readonly domain: string
  readonly acmeEmail: string
  readonly acmeServer: "production" | "staging"
  /** empty: the stack's Artifact Registry (cloud gcp) or ECR repository (cloud aws) */
  readonly imageRepository: string
  readonly imageTag: string
  readonly workloadProfile: WorkloadProfile
  readonly prometheusRetention: string
  readonly prometheusStorageGb: number
  readonly app: AppSettings
  readonly secrets: AppSecrets
}

/** A required secret whose project default is "" (only some stacks need it) must not stay empty. */
const nonEmptySecret = (cfg: pulumi.Config, key: string): pulumi.Output<string> =>
  cfg.requireSecret(key).apply((value) => {
    if (value.length === 0) {
      throw new pulumi.RunError(`config ${cfg.name}:${key} is empty; set it with: pulumi config set --secret ${key}`)
    }
    return value
  })

const stringList = (cfg: pulumi.Config, key: string): ReadonlyArray<string> => {
  const value: unknown = cfg.requireObject<unknown>(key)
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
    throw new pulumi.RunError(`config ${cfg.name}:${key} must be a list of strings`)
  }
  return value
}

const readGcp = (cfg: pulumi.Config): GcpConfig => ({
  project: cfg.require("gcpProject"),
  region: cfg.require("gcpRegion"),
  zone: cfg.require("gcpZone"),
  regionalCluster: cfg.requireBoolean("regionalCluster"),
  releaseChannel: cfg.require("releaseChannel", { allowedValues: ["RAPID", "REGULAR", "STABLE"] }),
  masterAuthorizedNetworks: stringList(cfg, "masterAuthorizedNetworks"),
  subnetCidr: cfg.require("subnetCidr"),
  podsCidr: cfg.require("podsCidr"),
  servicesCidr: cfg.require("servicesCidr"),
  masterCidr: cfg.require("masterCidr"),
  privateServiceCidr: cfg.require("privateServiceCidr"),
  nodeMachineType: cfg.require("nodeMachineType"),
  nodeMinCount: cfg.requireNumber("nodeMinCount", { min: 0 }),
  nodeMaxCount: cfg.requireNumber("nodeMaxCount", { min: 1 }),
  dbTier: cfg.require("dbTier"),
  dbDiskSizeGb: cfg.requireNumber("dbDiskSizeGb", { min: 10 }),
  dbHighAvailability: cfg.requireBoolean("dbHighAvailability"),
  dbPointInTimeRecovery: cfg.requireBoolean("dbPointInTimeRecovery"),
  dbDeletionProtection: cfg.requireBoolean("dbDeletionProtection"),
  redisTier: cfg.require("redisTier", { allowedValues: ["BASIC", "STANDARD_HA"] }),
  redisCacheMemoryGb: cfg.requireNumber("redisCacheMemoryGb", { min: 1 }),
  redisQueueMemoryGb: cfg.requireNumber("redisQueueMemoryGb", { min: 1 }),
  databasePassword: nonEmptySecret(cfg, "databasePassword")
})

/** IPv4 CIDR → [first, last] address as numbers; undefined when malformed. */
export const cidrRange = (cidr: string): readonly [number, number] | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr)
  if (m === null) return undefined
  const octets = m.slice(1, 5).map(Number)
  const bits = Number(m[5])
  if (octets.some((o) => o > 255) || bits > 32) return undefined
  const base = octets.reduce((a, o) => a * 256 + o, 0)
  const size = 2 ** (32 - bits)
  const first = base - (base % size)
  return [first, first + size - 1]
}

/** Is `inner` wholly inside `outer`? */
export const cidrContains = (outer: string, inner: string): boolean => {
  const o = cidrRange(outer)
  const i = cidrRange(inner)
  return o !== undefined && i !== undefined && o[0] <= i[0] && i[1] <= o[1]
}

const cidrsOverlap = (a: string, b: string): boolean => {
  const x = cidrRange(a)
  const y = cidrRange(b)
  return x !== undefined && y !== undefined && x[0] <= y[1] && y[0] <= x[1]
}

/** ElastiCache AUTH tokens: 16–128 printable characters without @, " or / (a URL-safe subset here). */
const authToken = (cfg: pulumi.Config, key: string): pulumi.Output<string> =>
  nonEmptySecret(cfg, key).apply((value) => {
    if (!/^[A-Za-z0-9!&#$^<>\-_.~+=]{16,128}$/.test(value)) {
      throw new pulumi.RunError(
        `config ${cfg.name}:${key} must be 16-128 characters of A-Z a-z 0-9 !&#$^<>-_.~+= (an ElastiCache AUTH token)`
      )
    }
    return value
  })

/** The network plan: three zones, one subnet of each kind per zone, data subnets apart from node subnets. */
export const awsNetworkProblems = (
  a: Pick<
    AwsConfig,
    | "availabilityZones"
    | "vpcCidr"
    | "privateSubnetCidrs"
    | "publicSubnetCidrs"
    | "dataSubnetCidrs"
    | "dataServicesCidr"
  >
): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (a.availabilityZones.length !== 3) problems.push("awsAvailabilityZones must name three zones")
  const all = {
    awsPrivateSubnetCidrs: a.privateSubnetCidrs,
    awsPublicSubnetCidrs: a.publicSubnetCidrs,
    awsDataSubnetCidrs: a.dataSubnetCidrs
  }
  for (const [key, list] of Object.entries(all)) {
    if (list.length !== a.availabilityZones.length) problems.push(`${key} must have one CIDR per availability zone`)
    for (const c of list)
      if (!cidrContains(a.vpcCidr, c)) problems.push(`${key}: ${c} is not inside awsVpcCidr ${a.vpcCidr}`)
  }
  for (const c of a.dataSubnetCidrs)
    if (!cidrContains(a.dataServicesCidr, c))
      problems.push(`awsDataSubnetCidrs: ${c} is not inside dataServicesCidr ${a.dataServicesCidr}`)
  // the egress allow-list to the data services must not also open the node and pod addresses
  for (const c of [...a.privateSubnetCidrs, ...a.publicSubnetCidrs])
    if (cidrsOverlap(a.dataServicesCidr, c))
      problems.push(`dataServicesCidr ${a.dataServicesCidr} overlaps the node/public subnet ${c}`)
  const subnets = [...a.privateSubnetCidrs, ...a.publicSubnetCidrs, ...a.dataSubnetCidrs]
  for (const [i, x] of subnets.entries())
    for (const y of subnets.slice(i + 1)) if (cidrsOverlap(x, y)) problems.push(`subnets ${x} and ${y} overlap`)
  return problems
}

const readAws = (cfg: pulumi.Config): AwsConfig => {
  const a: AwsConfig = {
    region: cfg.require("awsRegion"),
    availabilityZones: stringList(cfg, "awsAvailabilityZones"),
    vpcCidr: cfg.require("awsVpcCidr"),
    privateSubnetCidrs: stringList(cfg, "awsPrivateSubnetCidrs"),
    publicSubnetCidrs: stringList(cfg, "awsPublicSubnetCidrs"),
    dataSubnetCidrs: stringList(cfg, "awsDataSubnetCidrs"),
    dataServicesCidr: cfg.require("dataServicesCidr"),
    singleNatGateway: cfg.requireBoolean("awsSingleNatGateway"),
    eksVersion: cfg.require("eksVersion"),
    eksPrivateEndpointOnly: cfg.requireBoolean("eksPrivateEndpointOnly"),
    masterAuthorizedNetworks: stringList(cfg, "masterAuthorizedNetworks"),
    nodeInstanceTypes: stringList(cfg, "eksNodeInstanceTypes"),
    nodeMinCount: cfg.requireNumber("nodeMinCount", { min: 0 }),
    nodeMaxCount: cfg.requireNumber("nodeMaxCount", { min: 1 }),
    dbInstanceClass: cfg.require("rdsInstanceClass"),
    dbDiskSizeGb: cfg.requireNumber("dbDiskSizeGb", { min: 20 }),
    dbHighAvailability: cfg.requireBoolean("dbHighAvailability"),
    dbBackupRetentionDays: cfg.requireNumber("rdsBackupRetentionDays", { min: 1, max: 35 }),
    dbDeletionProtection: cfg.requireBoolean("dbDeletionProtection"),
    redisNodeType: cfg.require("elasticacheNodeType"),
    redisTier: cfg.require("redisTier", { allowedValues: ["BASIC", "STANDARD_HA"] }),
    redisSnapshotRetentionDays: cfg.requireNumber("elasticacheSnapshotRetentionDays", { min: 1, max: 35 }),
    databasePassword: nonEmptySecret(cfg, "databasePassword"),
    redisCacheAuthToken: authToken(cfg, "redisCacheAuthToken"),
    redisQueueAuthToken: authToken(cfg, "redisQueueAuthToken")
  }
  const problems = awsNetworkProblems(a)
  if (problems.length > 0) throw new pulumi.RunError(`cloud aws network config:\n  ${problems.join("\n  ")}`)
  if (a.masterAuthorizedNetworks.includes("0.0.0.0/0"))
    throw new pulumi.RunError("config brandme:masterAuthorizedNetworks must not contain 0.0.0.0/0")
  return a
}

const readExisting = (cfg: pulumi.Config): ExistingClusterConfig => ({
  kubeconfig: nonEmptySecret(cfg, "kubeconfig"),
  databaseUrl: nonEmptySecret(cfg, "databaseUrl"),
  redisUrl: nonEmptySecret(cfg, "redisUrl"),
  redisQueueUrl: nonEmptySecret(cfg, "redisQueueUrl"),
  dataServicesCidr: cfg.require("dataServicesCidr")
})

export const loadConfig = (): StackConfig => {
  const cfg = new pulumi.Config("brandme")
  const cloud = cfg.require("cloud", { allowedValues: ["gcp", "aws", "existing"] })
  return {
    cloud,
    gcp: cloud === "gcp" ? readGcp(cfg) : undefined,
    aws: cloud === "aws" ? readAws(cfg) : undefined,
    existing: cloud === "existing" ? readExisting(cfg) : undefined,
    appNamespace: cfg.require("appNamespace", { allowedValues: ["brandme", "brandme-staging"] }),
    domain: cfg.require("domain"),
    acmeEmail: cfg.require("acmeEmail"),
    acmeServer: cfg.require("acmeServer", { allowedValues: ["production", "staging"] }),
    imageRepository: cfg.require("imageRepository"),
    imageTag: cfg.require("imageTag"),
    workloadProfile: cfg.require("workloadProfile", { allowedValues: ["minimal", "production"] }),
    prometheusRetention: cfg.require("prometheusRetention"),
    prometheusStorageGb: cfg.requireNumber("prometheusStorageGb", { min: 1 }),
    app: {
      appEnv: cfg.require("appEnv", { allowedValues: ["development", "staging", "production"] }),
      logLevel: cfg.require("logLevel"),
      databasePoolMax: cfg.requireNumber("databasePoolMax", { min: 1 }),
      databaseSsl: cfg.require("databaseSsl", { allowedValues: ["disable", "require", "verify-full"] }),
      auditLogOrigin: cfg.require("auditLogOrigin"),
      chainProvider: cfg.require("chainProvider", { allowedValues: ["local", "blockfrost", "ogmios"] }),
      chainNetwork: cfg.require("chainNetwork", { allowedValues: ["preprod", "preview", "mainnet"] }),
      blockfrostUrl: cfg.require("blockfrostUrl"),
      ogmiosUrl: cfg.require("ogmiosUrl"),
      httpMaxBodyBytes: cfg.requireNumber("httpMaxBodyBytes", { min: 1 }),
      shutdownGraceMs: cfg.requireNumber("shutdownGraceMs", { min: 0 })
    },
    secrets: {
      jwtSecret: cfg.requireSecret("jwtSecret"),
      jwtPrivateKey: cfg.requireSecret("jwtPrivateKey"),
      jwtPublicKey: cfg.requireSecret("jwtPublicKey"),
      auditSigningKey: cfg.requireSecret("auditSigningKey"),
      chainSigningKey: cfg.requireSecret("chainSigningKey"),
      blockfrostProjectId: cfg.requireSecret("blockfrostProjectId"),
      piiMasterKey: cfg.requireSecret("piiMasterKey"),
      webhookSigningSecret: cfg.requireSecret("webhookSigningSecret"),
      serviceTokenKey: cfg.requireSecret("serviceTokenKey"),
      grafanaAdminPassword: cfg.requireSecret("grafanaAdminPassword"),
      pagerdutyRoutingKey: cfg.requireSecret("pagerdutyRoutingKey"),
      slackWebhookUrl: cfg.requireSecret("slackWebhookUrl")
    }
  }
}
