import { Config, ConfigError, Context, Effect, Either, Layer, Redacted, Schema } from "effect"
import type { AppEnv } from "./EnvFile.js"

/**
 * Every setting of the platform, typed, with a development default. Secrets are `Redacted`.
 * In production (and staging) `insecureSettings` lists every setting still on an insecure default,
 * and the process refuses to start with one message naming them all.
 */
export const DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"
export const DEV_AUDIT_SIGNING_KEY = "dev-only-insecure-audit-key"
export const DEV_PII_MASTER_KEY = "dev-only-insecure-pii-master-key"
export const DEV_CHAIN_SIGNING_KEY = "dev-only-insecure-chain-key"
export const DEV_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"

const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

const url = (name: string, fallback: string, schemes: ReadonlyArray<string>) =>
  Config.redacted(name).pipe(
    Config.withDefault(Redacted.make(fallback)),
    Config.validate({
      message: `${name} must be a URL with scheme ${schemes.join(" or ")}`,
      validation: (r) => {
        try {
          return schemes.includes(new URL(Redacted.value(r)).protocol.replace(/:$/, ""))
        } catch {
          return false
        }
      }
    })
  )

/** A rate limit as `<requests>/<window seconds>`, e.g. `300/60`. */
const LIMIT = /^([1-9][0-9]{0,9})\/([1-9][0-9]{0,6})$/
export const parseLimit = (v: string): Either.Either<{ limit: number; windowSeconds: number }, string> => {
  const m = LIMIT.exec(v.trim())
  return m === null
    ? Either.left(`"${v}" is not <requests>/<window seconds> (e.g. 300/60)`)
    : Either.right({ limit: Number(m[1]), windowSeconds: Number(m[2]) })
}

const rateLimit = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((v) => Either.mapLeft(parseLimit(v), (m) => ConfigError.InvalidData([name], `${name}: ${m}`)))
  )

/** `RATE_LIMIT_OVERRIDES`: `<subject>=<requests>/<seconds>` comma list; subject `ip:<address>` or a client id. */
export const parseLimitOverrides = (
  v: string
): Either.Either<Record<string, { limit: number; windowSeconds: number }>, string> => {
  const out: Record<string, { limit: number; windowSeconds: number }> = {}
  for (const part of v.split(",").map((p) => p.trim())) {
    if (part === "") continue
    const eq = part.lastIndexOf("=")
    const subject = eq > 0 ? part.slice(0, eq).trim() : ""
    if (!/^(ip|user|key):\S{1,200}$/.test(subject)) {
      return Either.left(`"${part}" must be <ip:addr|user:id|key:hash>=<requests>/<window seconds>`)
    }
    const limit = parseLimit(part.slice(eq + 1))
    if (Either.isLeft(limit)) return Either.left(`${subject}: ${limit.left}`)
    out[subject] = limit.right
  }
  return Either.right(out)
}

/** Where a crash test may make a worker kill itself (`TEST_CRASH_POINT`). */
export const CrashPoints = ["after-audit-append"] as const
export type CrashPoint = (typeof CrashPoints)[number]

export const LogLevels = ["trace", "debug", "info", "warn", "error"] as const

export const appConfig = Config.all({
  appEnv: Config.literal("development", "staging", "production")("APP_ENV").pipe(Config.withDefault("development")),
  version: Config.string("APP_VERSION").pipe(Config.withDefault("0.1.0")),
  logLevel: Config.literal(...LogLevels)("LOG_LEVEL").pipe(Config.withDefault("info")),
  database: Config.all({
    url: url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/brandme", ["postgres", "postgresql"]),
    poolMax: positiveInt("DATABASE_POOL_MAX", 10),
    idleTimeoutMs: positiveInt("DATABASE_POOL_IDLE_TIMEOUT_MS", 30_000),
    connectTimeoutMs: positiveInt("DATABASE_CONNECT_TIMEOUT_MS", 5_000),
    ssl: Config.literal("disable", "require", "verify-full")("DATABASE_SSL").pipe(Config.withDefault("disable"))
  }),
  redis: Config.all({
    url: url("REDIS_URL", "redis://127.0.0.1:6379", ["redis", "rediss"]),
    queueUrl: Config.option(url("REDIS_QUEUE_URL", "redis://127.0.0.1:6379", ["redis", "rediss"])),
    keyPrefix: Config.string("REDIS_KEY_PREFIX").pipe(Config.withDefault("brandme:"))
  }),
  nats: Config.all({
    url: url("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls"]),
    streamPrefix: Config.string("NATS_STREAM_PREFIX").pipe(Config.withDefault("BRANDME"))
  }),
  queues: Config.all({
    prefix: Config.string("QUEUE_PREFIX").pipe(Config.withDefault("brandme")),
    concurrency: positiveInt("QUEUE_CONCURRENCY", 4)
  }),
  http: Config.all({
    host: Config.string("HTTP_HOST").pipe(Config.withDefault("0.0.0.0")),
    maxBodyBytes: positiveInt("HTTP_MAX_BODY_BYTES", 1_048_576),
    shutdownGraceMs: positiveInt("SHUTDOWN_GRACE_MS", 10_000),
    portOffset: Config.integer("PORT_OFFSET").pipe(Config.withDefault(0)),
    /** proxies of ours that append to X-Forwarded-For (1: the ingress; 0: trust only the socket peer) */
    trustedProxyHops: Config.integer("HTTP_TRUSTED_PROXY_HOPS").pipe(
      Config.validate({ message: "HTTP_TRUSTED_PROXY_HOPS must be 0 or more", validation: (n) => n >= 0 }),
      Config.withDefault(1)
    )
  }),
  rateLimits: Config.all({
    perIp: rateLimit("RATE_LIMIT_PER_IP", "300/60"),
    perClient: rateLimit("RATE_LIMIT_PER_CLIENT", "120/60"),
    overrides: Config.string("RATE_LIMIT_OVERRIDES").pipe(
      Config.withDefault(""),
      Config.mapOrFail((v) =>
        Either.mapLeft(parseLimitOverrides(v), (m) =>
          ConfigError.InvalidData(["RATE_LIMIT_OVERRIDES"], `RATE_LIMIT_OVERRIDES: ${m}`)
        )
      )
    )
  }),
  auth: Config.all({
    jwtSecret: Config.redacted("JWT_SECRET").pipe(Config.withDefault(Redacted.make(DEV_JWT_SECRET))),
    jwtPrivateKey: Config.option(Config.redacted("JWT_PRIVATE_KEY")),
    jwtPublicKey: Config.option(Config.string("JWT_PUBLIC_KEY")),
    jwtIssuer: Config.string("JWT_ISSUER").pipe(Config.withDefault("brandme-identity"))
  }),
  audit: Config.all({
    origin: Config.string("AUDIT_LOG_ORIGIN").pipe(Config.withDefault("brandme.local/audit")),
    signingKey: Config.redacted("AUDIT_SIGNING_KEY").pipe(Config.withDefault(Redacted.make(DEV_AUDIT_SIGNING_KEY)))
  }),
  privacy: Config.all({
    piiMasterKey: Config.redacted("PII_MASTER_KEY").pipe(Config.withDefault(Redacted.make(DEV_PII_MASTER_KEY))),
    gdprEnabled: Config.boolean("GDPR_ENABLED").pipe(Config.withDefault(true)),
    ccpaEnabled: Config.boolean("CCPA_ENABLED").pipe(Config.withDefault(true)),
    scanRetentionDays: positiveInt("SCAN_RETENTION_DAYS", 365)
  }),
  chain: Config.all({
    provider: Config.literal("local", "blockfrost", "ogmios")("CHAIN_PROVIDER").pipe(Config.withDefault("local")),
    network: Config.literal("preprod", "preview", "mainnet")("CHAIN_NETWORK").pipe(Config.withDefault("preprod")),
    signingKey: Config.redacted("CHAIN_SIGNING_KEY").pipe(Config.withDefault(Redacted.make(DEV_CHAIN_SIGNING_KEY))),
    blockfrostProjectId: Config.option(Config.redacted("BLOCKFROST_PROJECT_ID")),
    ogmiosUrl: Config.option(Config.string("OGMIOS_URL"))
  }),
  notifications: Config.all({
    webhookSecret: Config.redacted("WEBHOOK_SIGNING_SECRET").pipe(Config.withDefault(Redacted.make(DEV_WEBHOOK_SECRET)))
  }),
  telemetry: Config.all({
    otlpEndpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_ENDPOINT"))
  }),
  features: Config.all({
    demoData: Config.boolean("FEATURE_DEMO_DATA").pipe(Config.withDefault(false))
  }),
  testing: Config.all({
    /** test-only: the process SIGKILLs itself at this point (crash tests); refused outside development */
    crashPoint: Config.option(Config.literal(...CrashPoints)("TEST_CRASH_POINT"))
  })
})

export type AppConfigShape = Config.Config.Success<typeof appConfig>

const hasPassword = (u: string): boolean => {
  try {
    return new URL(u).password !== ""
  } catch {
    return false
  }
}

const devDefaultsInUse = (c: AppConfigShape): ReadonlyArray<string> => [
  ...(Redacted.value(c.auth.jwtSecret) === DEV_JWT_SECRET && c.auth.jwtPrivateKey._tag === "None"
    ? ["JWT_SECRET is the development secret (set JWT_PRIVATE_KEY/JWT_PUBLIC_KEY or a strong JWT_SECRET)"]
    : []),
  ...(Redacted.value(c.audit.signingKey) === DEV_AUDIT_SIGNING_KEY ? ["AUDIT_SIGNING_KEY is the development key"] : []),
  ...(Redacted.value(c.privacy.piiMasterKey) === DEV_PII_MASTER_KEY ? ["PII_MASTER_KEY is the development key"] : []),
  ...(Redacted.value(c.chain.signingKey) === DEV_CHAIN_SIGNING_KEY ? ["CHAIN_SIGNING_KEY is the development key"] : []),
  ...(Redacted.value(c.notifications.webhookSecret) === DEV_WEBHOOK_SECRET
    ? ["WEBHOOK_SIGNING_SECRET is the development secret"]
    : [])
]

/** Every setting that is unsafe outside development, each as one line naming the setting. */
export const insecureSettings = (c: AppConfigShape): ReadonlyArray<string> => {
  if (c.appEnv === "development") return []
  const problems: Array<string> = [...devDefaultsInUse(c)]
  const jwt = Redacted.value(c.auth.jwtSecret)
  if (jwt !== DEV_JWT_SECRET && jwt.length < 32 && c.auth.jwtPrivateKey._tag === "None") {
    problems.push("JWT_SECRET is shorter than 32 characters")
  }
  if (c.database.ssl === "disable") problems.push("DATABASE_SSL=disable: the database connection must use TLS")
  if (!hasPassword(Redacted.value(c.database.url)))
    problems.push("DATABASE_URL has no password: use an authenticated user")
  if (!hasPassword(Redacted.value(c.redis.url))) problems.push("REDIS_URL has no password: enable Redis AUTH")
  if (c.redis.queueUrl._tag === "Some" && !hasPassword(Redacted.value(c.redis.queueUrl.value))) {
    problems.push("REDIS_QUEUE_URL has no password: enable Redis AUTH")
  }
  if (!Redacted.value(c.redis.url).startsWith("rediss://")) problems.push("REDIS_URL must use TLS (rediss://)")
  if (c.features.demoData) problems.push("FEATURE_DEMO_DATA=true: demo data must not be loaded")
  if (c.testing.crashPoint._tag === "Some") problems.push("TEST_CRASH_POINT is set: it is for crash tests only")
  if (c.logLevel === "trace" || c.logLevel === "debug") {
    problems.push(`LOG_LEVEL=${c.logLevel}: debug logging may leak request data`)
  }
  if (c.chain.provider === "blockfrost" && c.chain.blockfrostProjectId._tag === "None") {
    problems.push("BLOCKFROST_PROJECT_ID is required with CHAIN_PROVIDER=blockfrost")
  }
  if (c.appEnv === "production" && c.chain.provider === "local") {
    problems.push("CHAIN_PROVIDER=local: production must anchor on a real network (blockfrost or ogmios)")
  }
  return problems
}

export class InsecureConfiguration extends Schema.TaggedError<InsecureConfiguration>()("InsecureConfiguration", {
  appEnv: Schema.String,
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `refusing to start in ${this.appEnv}: ${this.problems.length} insecure setting(s):\n${this.problems
      .map((p) => `  - ${p}`)
      .join("\n")}`
  }
}

/** The process's configuration, loaded once and checked. */
export class AppConfig extends Context.Tag("brandme/AppConfig")<AppConfig, AppConfigShape>() {
  static readonly load = Effect.gen(function* () {
    const c = yield* appConfig
    const problems = insecureSettings(c)
    if (problems.length > 0) return yield* new InsecureConfiguration({ appEnv: c.appEnv, problems })
    return c
  })
  static readonly layer = Layer.effect(AppConfig, AppConfig.load)
  static readonly layerWith = (c: AppConfigShape) => Layer.succeed(AppConfig, c)
}

export const isProductionLike = (env: AppEnv): boolean => env !== "development"
