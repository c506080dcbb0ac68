import type { ServiceName } from "../shared/ServiceCatalog.js"

/**
 * Every secret the platform holds. Each lives in GCP Secret Manager (cloud gcp) under `id`;
 * secrets with a Kubernetes consumer are mirrored by one ExternalSecret into a Kubernetes
 * Secret of the same name (key `value`), which pods read through `secretKeyRef`.
 * With `cloud: existing` the same Kubernetes Secrets are created directly from the
 * encrypted stack config, so the Deployments do not change.
 */

export type SecretName =
  | "databasePassword"
  | "redisCacheAuth"
  | "redisQueueAuth"
  | "databaseUrl"
  | "redisUrl"
  | "redisQueueUrl"
  | "jwtSecret"
  | "jwtPrivateKey"
  | "jwtPublicKey"
  | "auditSigningKey"
  | "chainSigningKey"
  | "blockfrostProjectId"
  | "piiMasterKey"
  | "grafanaAdminPassword"

export interface SecretDef {
  readonly name: SecretName
  /** Secret Manager secret id and Kubernetes Secret name */
  readonly id: string
  /** the env var pods get, if any */
  readonly env: string | undefined
  /** which workloads get it ("all" includes the migration Job) */
  readonly consumers: "all" | ReadonlyArray<ServiceName | "migrate">
  /** mirrored into Kubernetes (the raw passwords stay in Secret Manager: pods get them inside the URLs) */
  readonly mirrored: boolean
  readonly namespace: "app" | "observability"
}

const def = (
  name: SecretName,
  id: string,
  env: string | undefined,
  consumers: SecretDef["consumers"],
  mirrored = true,
  namespace: SecretDef["namespace"] = "app"
): SecretDef => ({ name, id, env, consumers, mirrored, namespace })

export const SecretDefs: ReadonlyArray<SecretDef> = [
  def("databasePassword", "brandme-database-password", undefined, [], false),
  def("redisCacheAuth", "brandme-redis-cache-auth", undefined, [], false),
  def("redisQueueAuth", "brandme-redis-queue-auth", undefined, [], false),
  def("databaseUrl", "brandme-database-url", "DATABASE_URL", "all"),
  def("redisUrl", "brandme-redis-url", "REDIS_URL", "all"),
  def("redisQueueUrl", "brandme-redis-queue-url", "REDIS_QUEUE_URL", "all"),
  def("jwtSecret", "brandme-jwt-secret", "JWT_SECRET", "all"),
  def("jwtPublicKey", "brandme-jwt-public-key", "JWT_PUBLIC_KEY", "all"),
  // only identity issues tokens
  def("jwtPrivateKey", "brandme-jwt-private-key", "JWT_PRIVATE_KEY", ["identity"]),
  def("auditSigningKey", "brandme-audit-signing-key", "AUDIT_SIGNING_KEY", ["compliance", "orchestrator"]),
  // only the chain service signs transactions and talks to the chain provider
  def("chainSigningKey", "brandme-chain-signing-key", "CHAIN_SIGNING_KEY", ["chain"]),
  def("blockfrostProjectId", "brandme-blockfrost-project-id", "BLOCKFROST_PROJECT_ID", ["chain"]),
  def("piiMasterKey", "brandme-pii-master-key", "PII_MASTER_KEY", [
    "gateway",
    "identity",
    "policy",
    "compliance",
    "orchestrator"
  ]),
  def("grafanaAdminPassword", "grafana-admin", undefined, [], true, "observability")
]

export const secretsFor = (workload: ServiceName | "migrate"): ReadonlyArray<SecretDef> =>
  SecretDefs.filter(
    (s) => s.env !== undefined && s.mirrored && (s.consumers === "all" || s.consumers.includes(workload))
  )
