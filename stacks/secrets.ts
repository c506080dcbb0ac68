import { type ProcessName, secretsOf } from "../shared/ServiceCatalog.js"

/**
 * Every secret the platform holds. Each lives in GCP Secret Manager (cloud gcp) under `id`;
 * secrets with a Kubernetes consumer are mirrored by an ExternalSecret into the Kubernetes
 * Secret `target.secret` (key `target.key`), which pods read through `secretKeyRef` or a volume.
 * With `cloud: existing` the same Kubernetes Secrets are created directly from the encrypted
 * stack config, so nothing that reads them changes.
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
  | "webhookSigningSecret"
  | "serviceTokenKey"
  | "grafanaAdminPassword"
  | "pagerdutyRoutingKey"
  | "slackWebhookUrl"

export type SecretNamespace = "app" | "observability"

export interface SecretTarget {
  readonly secret: string
  readonly key: string
  readonly namespace: SecretNamespace
}

export interface SecretDef {
  readonly name: SecretName
  /** Secret Manager secret id */
  readonly id: string
  /** the env var pods get, if any; which pods get it is the catalog's `secretsOf` (shared/ServiceCatalog.ts) */
  readonly env: string | undefined
  /** the Kubernetes Secret it is mirrored into; undefined: stays in Secret Manager (raw passwords, which pods get inside the URLs) */
  readonly target: SecretTarget | undefined
}

export const ValueKey = "value"
export const GrafanaAdminSecret = "grafana-admin"
export const GrafanaAdminKeys = { user: "admin-user", password: "admin-password" } as const
export const AlertmanagerReceiversSecret = "alertmanager-receivers"
/** alertmanager.yml reads its receiver credentials from files in this folder */
export const AlertmanagerSecretsDir = "/etc/alertmanager/secrets"

const app = (name: SecretName, id: string, env: string): SecretDef => ({
  name,
  id,
  env,
  target: { secret: id, key: ValueKey, namespace: "app" }
})
const raw = (name: SecretName, id: string): SecretDef => ({ name, id, env: undefined, target: undefined })
const obs = (name: SecretName, id: string, secret: string, key: string): SecretDef => ({
  name,
  id,
  env: undefined,
  target: { secret, key, namespace: "observability" }
})

export const SecretDefs: ReadonlyArray<SecretDef> = [
  raw("databasePassword", "brandme-database-password"),
  raw("redisCacheAuth", "brandme-redis-cache-auth"),
  raw("redisQueueAuth", "brandme-redis-queue-auth"),
  app("databaseUrl", "brandme-database-url", "DATABASE_URL"),
  app("redisUrl", "brandme-redis-url", "REDIS_URL"),
  app("redisQueueUrl", "brandme-redis-queue-url", "REDIS_QUEUE_URL"),
  // HS256 is for development only: staging and production sign with the EdDSA pair
  raw("jwtSecret", "brandme-jwt-secret"),
  app("jwtPublicKey", "brandme-jwt-public-key", "JWT_PUBLIC_KEY"),
  app("jwtPrivateKey", "brandme-jwt-private-key", "JWT_PRIVATE_KEY"),
  app("auditSigningKey", "brandme-audit-signing-key", "AUDIT_SIGNING_KEY"),
  app("chainSigningKey", "brandme-chain-signing-key", "CHAIN_SIGNING_KEY"),
  app("blockfrostProjectId", "brandme-blockfrost-project-id", "BLOCKFROST_PROJECT_ID"),
  app("piiMasterKey", "brandme-pii-master-key", "PII_MASTER_KEY"),
  app("webhookSigningSecret", "brandme-webhook-signing-secret", "WEBHOOK_SIGNING_SECRET"),
  app("serviceTokenKey", "brandme-service-token-key", "SERVICE_TOKEN_KEY"),
  obs("grafanaAdminPassword", "grafana-admin-password", GrafanaAdminSecret, GrafanaAdminKeys.password),
  obs(
    "pagerdutyRoutingKey",
    "alertmanager-pagerduty-routing-key",
    AlertmanagerReceiversSecret,
    "pagerduty-routing-key"
  ),
  obs("slackWebhookUrl", "alertmanager-slack-webhook-url", AlertmanagerReceiversSecret, "slack-webhook-url")
]

/** Non-secret keys some Kubernetes Secrets also need (Grafana's chart reads the user from the Secret). */
export const SecretLiterals: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [GrafanaAdminSecret]: { [GrafanaAdminKeys.user]: "admin" }
}

export interface MirroredSecret {
  readonly secret: string
  readonly namespace: SecretNamespace
  readonly entries: ReadonlyArray<{ readonly key: string; readonly def: SecretDef }>
  readonly literals: Readonly<Record<string, string>>
}

/** The Kubernetes Secrets to create, each with the Secret Manager entries it holds. */
export const mirroredSecrets = (): ReadonlyArray<MirroredSecret> => {
  const bySecret = new Map<string, MirroredSecret>()
  for (const def of SecretDefs) {
    const t = def.target
    if (t === undefined) continue
    const m = bySecret.get(t.secret) ?? {
      secret: t.secret,
      namespace: t.namespace,
      entries: [],
      literals: SecretLiterals[t.secret] ?? {}
    }
    bySecret.set(t.secret, { ...m, entries: [...m.entries, { key: t.key, def }] })
  }
  return [...bySecret.values()]
}

/** The env vars a workload gets from Secrets, and where each comes from: exactly the catalog's `secretsOf`. */
export const secretsFor = (
  process: ProcessName
): ReadonlyArray<{ readonly env: string; readonly target: SecretTarget }> => {
  const wanted = secretsOf(process)
  return SecretDefs.flatMap(({ env, target }) =>
    target !== undefined && target.namespace === "app" && env !== undefined && wanted.includes(env)
      ? [{ env, target }]
      : []
  )
}

/** A catalog secret with no Secret to come from: a workload would start without it. */
export const undeliveredSecrets = (process: ProcessName): ReadonlyArray<string> => {
  const delivered = new Set(secretsFor(process).map((s) => s.env))
  return secretsOf(process).filter((env) => !delivered.has(env))
}
