import * as pulumi from "@pulumi/pulumi"

/**
 * The one typed view of the stack configuration. Every key read here is documented, with its
 * default, in the `config:` block of Pulumi.yaml; the CLI applies those defaults, and the offline
 * harness (stacks/offline/harness.ts) applies them the same way, so no default is repeated here.
 */

export type CloudKind = "gcp" | "existing"
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
  readonly existing: ExistingClusterConfig | undefined
  readonly appNamespace: string
  readonly domain: string
  readonly acmeEmail: string
  readonly acmeServer: "production" | "staging"
  /** empty: the stack's Artifact Registry (cloud gcp) */
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

const readExisting = (cfg: pulumi.Config): ExistingClusterConfig => ({
  kubeconfig: nonEmptySecret(cfg, "kubeconfig"),
  databaseUrl: nonEmptySecret(cfg, "databaseUrl"),
  redisUrl: nonEmptySecret(cfg, "redisUrl"),
  redisQueueUrl: nonEmptySecret(cfg, "redisQueueUrl"),
  dataServicesCidr: cfg.require("dataServicesCidr")
})

export const loadConfig = (): StackConfig => {
  const cfg = new pulumi.Config("brandme")
  const cloud = cfg.require("cloud", { allowedValues: ["gcp", "existing"] })
  return {
    cloud,
    gcp: cloud === "gcp" ? readGcp(cfg) : undefined,
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
