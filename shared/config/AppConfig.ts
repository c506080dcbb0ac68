import { Config, ConfigError, Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import {
  callUrlVariable,
  isServiceName,
  Jobs,
  localUrl,
  type ProcessName,
  readsSetting,
  type SecretVariable,
  SecretVariables,
  type ServiceName,
  ServiceNames,
  secretsOf
} from "../ServiceCatalog.js"
import type { AppEnv } from "./EnvFile.js"
import { agenticConfig, chainConfig, DEV_CHAIN_SIGNING_KEY, orchestratorConfig } from "./ServiceSettings.js"

export { DEV_CHAIN_SIGNING_KEY }

/**
 * Every setting of the platform, typed, with a development default. Secrets are `Redacted`.
 * In production (and staging) `insecureSettings` lists every setting the process reads that is still on an
 * insecure default or missing, and the process refuses to start with one message naming them all.
 */
export const DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me-0123456789"
export const DEV_AUDIT_SIGNING_KEY = "dev-only-insecure-audit-key"
export const DEV_PII_MASTER_KEY = "dev-only-insecure-pii-master-key"
export const DEV_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"
export const DEV_SERVICE_TOKEN_KEY = "dev-only-insecure-service-token-key-0123456789"

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

const httpUrl = (name: string) =>
  Config.string(name).pipe(
    Config.validate({ message: `${name} must be an http(s) URL`, validation: (u) => /^https?:\/\/[^/]+/.test(u) }),
    Config.map((u) => u.replace(/\/+$/, ""))
  )

/** `<NAME>_URL` of every service: where this process calls it, when set (the catalog's `calls`) */
/** dot-separated tokens of lowercase letters, digits, `_` and `-` (no wildcards, no spaces): a NATS subject's head */
const SUBJECT_PREFIX = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/
const subjectPrefix = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.mapOrFail((v) =>
      v === "" || (v.length <= 64 && SUBJECT_PREFIX.test(v))
        ? Either.right(v)
        : Either.left(
            ConfigError.InvalidData(
              [name],
              `${name}: "${v}" is not a subject prefix: dot-separated tokens of a-z, 0-9, _ and - (at most 64 characters, no wildcards)`
            )
          )
    )
  )

const callUrls: Config.Config<Readonly<Partial<Record<ServiceName, Option.Option<string>>>>> = Config.all(
  Object.fromEntries(ServiceNames.map((n) => [n, Config.option(httpUrl(callUrlVariable(n)))]))
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
  /** which service(s) this process runs: "all", one name, a comma list, or a job */
  service: Config.string("SERVICE").pipe(Config.withDefault("all")),
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
    streamPrefix: Config.string("NATS_STREAM_PREFIX").pipe(Config.withDefault("BRANDME")),
    /**
     * put before every subject the process publishes, subscribes to or captures in a stream (`<prefix>.brandme.…`);
     * empty (the default): the platform subjects. A subject belongs to one stream per server, so processes that
     * share a NATS server but not an environment (a test run, a bench) each take their own.
     */
    subjectPrefix: subjectPrefix("NATS_SUBJECT_PREFIX")
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
    /**
     * proxies of ours that append to X-Forwarded-For. Default 0 (local, compose: no proxy; trust only the
     * socket peer, so a client-set header buys nothing); the stacks set the number of their ingress hops.
     */
    trustedProxyHops: Config.integer("HTTP_TRUSTED_PROXY_HOPS").pipe(
      Config.validate({ message: "HTTP_TRUSTED_PROXY_HOPS must be 0 or more", validation: (n) => n >= 0 }),
      Config.withDefault(0)
    ),
    /** JSON bodies nested deeper are refused with a 400 before any schema recurses into them */
    maxJsonDepth: positiveInt("HTTP_MAX_JSON_DEPTH", 32),
    /** slow clients: the request head, and the whole request, must arrive within these (else 408) */
    headersTimeoutMs: positiveInt("HTTP_HEADERS_TIMEOUT_MS", 10_000),
    requestTimeoutMs: positiveInt("HTTP_REQUEST_TIMEOUT_MS", 15_000),
    /** open connections one socket peer may hold (without a trusted proxy; the ingress limits behind one) */
    maxConnectionsPerClient: positiveInt("HTTP_MAX_CONNECTIONS_PER_CLIENT", 64),
    /** browser origins allowed to call the API cross-origin (comma list; empty: same-origin only) */
    corsOrigins: Config.string("HTTP_CORS_ORIGINS").pipe(
      Config.withDefault(""),
      Config.mapOrFail((v) => {
        const origins = v
          .split(",")
          .map((o) => o.trim())
          .filter((o) => o !== "")
        const bad = origins.find((o) => !/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(o))
        return bad === undefined
          ? Either.right(origins)
          : Either.left(
              ConfigError.InvalidData(
                ["HTTP_CORS_ORIGINS"],
                `HTTP_CORS_ORIGINS: "${bad}" is not an origin (scheme://host[:port], no path)`
              )
            )
      })
    )
  }).pipe(
    Config.validate({
      message: "HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS",
      validation: (h) => h.headersTimeoutMs <= h.requestTimeoutMs
    })
  ),
  runtime: Config.all({
    /**
     * every this often an idle process (event loop under 5 % busy since the last look) whose resident memory
     * grew since its last trim runs a memory-reducing GC (shared/runtime/HeapTrim.ts); 0 turns it off
     */
    heapTrimIntervalMs: Config.integer("HEAP_TRIM_INTERVAL_MS").pipe(
      Config.validate({ message: "HEAP_TRIM_INTERVAL_MS must be 0 (off) or more", validation: (n) => n >= 0 }),
      Config.withDefault(15_000)
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
    jwtIssuer: Config.string("JWT_ISSUER").pipe(Config.withDefault("brandme-identity")),
    /** HMAC key of the service tokens calls between services carry (shared/auth/ServiceTokens.ts) */
    serviceTokenKey: Config.redacted("SERVICE_TOKEN_KEY").pipe(Config.withDefault(Redacted.make(DEV_SERVICE_TOKEN_KEY)))
  }),
  audit: Config.all({
    origin: Config.string("AUDIT_LOG_ORIGIN").pipe(Config.withDefault("brandme.local/audit")),
    signingKey: Config.redacted("AUDIT_SIGNING_KEY").pipe(Config.withDefault(Redacted.make(DEV_AUDIT_SIGNING_KEY)))
  }),
  privacy: Config.all({
    piiMasterKey: Config.redacted("PII_MASTER_KEY").pipe(Config.withDefault(Redacted.make(DEV_PII_MASTER_KEY))),
    /** the policy's regimes: off = that regime's regions fall to `default` (production refuses GDPR off) */
    gdprEnabled: Config.boolean("GDPR_ENABLED").pipe(Config.withDefault(true)),
    ccpaEnabled: Config.boolean("CCPA_ENABLED").pipe(Config.withDefault(true)),
    /** the regime when the scanner's region or the owner's jurisdiction is unknown (strictest by default) */
    unknownRegionRegime: Config.literal(
      "gdpr",
      "ccpa",
      "default"
    )("UNKNOWN_REGION_REGIME").pipe(Config.withDefault("gdpr")),
    /** the header our ingress sets to the client's region (believed only from trusted proxy hops) */
    geoRegionHeader: Config.string("GEO_REGION_HEADER").pipe(
      Config.withDefault("X-Client-Region"),
      Config.validate({
        message: "GEO_REGION_HEADER must be an HTTP header name",
        validation: (h) => /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(h)
      }),
      Config.map((h) => h.toLowerCase())
    ),
    scanRetentionDays: positiveInt("SCAN_RETENTION_DAYS", 365)
  }),
  chain: chainConfig,
  orchestrator: orchestratorConfig,
  agentic: agenticConfig,
  calls: Config.all({
    urls: callUrls,
    /** the gateway's calls to brain, policy and knowledge: in this process, or over HTTP (by default in-process
     * when this process runs all three) */
    mode: Config.option(Config.literal("inprocess", "http")("INTERNAL_CALLS"))
  }),
  console: Config.all({
    /** Grafana, linked from the console's Operations page */
    grafanaUrl: httpUrl("CONSOLE_GRAFANA_URL").pipe(Config.withDefault("http://localhost:3030"))
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

/** Where this process calls a service: its `<NAME>_URL`, else this host at the service's port (+ PORT_OFFSET). */
export const callUrl = (c: AppConfigShape, service: ServiceName): string =>
  Option.getOrElse(c.calls.urls[service] ?? Option.none(), () => localUrl(service, c.http.portOffset))

const hasPassword = (u: string): boolean => {
  try {
    return new URL(u).password !== ""
  } catch {
    return false
  }
}

/** One production problem, and the variable it is about (a process is checked only on what it reads). */
interface Problem {
  readonly variable: string
  readonly message: string
}

const missingSecret = (c: AppConfigShape, variable: SecretVariable): boolean => {
  switch (variable) {
    case "JWT_PRIVATE_KEY":
      return c.auth.jwtPrivateKey._tag === "None"
    case "JWT_PUBLIC_KEY":
      return c.auth.jwtPublicKey._tag === "None"
    case "AUDIT_SIGNING_KEY":
      return Redacted.value(c.audit.signingKey) === DEV_AUDIT_SIGNING_KEY
    case "CHAIN_SIGNING_KEY":
      return Redacted.value(c.chain.signingKey) === DEV_CHAIN_SIGNING_KEY
    case "BLOCKFROST_PROJECT_ID":
      // needed only to anchor through Blockfrost
      return c.chain.provider === "blockfrost" && c.chain.blockfrostProjectId._tag === "None"
    case "PII_MASTER_KEY":
      return Redacted.value(c.privacy.piiMasterKey) === DEV_PII_MASTER_KEY
    case "WEBHOOK_SIGNING_SECRET":
      return Redacted.value(c.notifications.webhookSecret) === DEV_WEBHOOK_SECRET
    case "SERVICE_TOKEN_KEY":
      return Redacted.value(c.auth.serviceTokenKey) === DEV_SERVICE_TOKEN_KEY
  }
}

/** Problems with settings that are not secrets, each naming its variable. */
const unsafeSettings = (c: AppConfigShape): ReadonlyArray<Problem> => {
  const problems: Array<Problem> = []
  const add = (variable: string, message: string) => problems.push({ variable, message })
  if (c.database.ssl === "disable") add("DATABASE_SSL", "DATABASE_SSL=disable: the database connection must use TLS")
  if (!hasPassword(Redacted.value(c.database.url)))
    add("DATABASE_URL", "DATABASE_URL has no password: use an authenticated user")
  if (!hasPassword(Redacted.value(c.redis.url))) add("REDIS_URL", "REDIS_URL has no password: enable Redis AUTH")
  if (c.redis.queueUrl._tag === "Some" && !hasPassword(Redacted.value(c.redis.queueUrl.value))) {
    add("REDIS_QUEUE_URL", "REDIS_QUEUE_URL has no password: enable Redis AUTH")
  }
  if (!Redacted.value(c.redis.url).startsWith("rediss://")) add("REDIS_URL", "REDIS_URL must use TLS (rediss://)")
  if (c.features.demoData) add("FEATURE_DEMO_DATA", "FEATURE_DEMO_DATA=true: demo data must not be loaded")
  if (c.testing.crashPoint._tag === "Some")
    add("TEST_CRASH_POINT", "TEST_CRASH_POINT is set: it is for crash tests only")
  if (c.logLevel === "trace" || c.logLevel === "debug") {
    add("LOG_LEVEL", `LOG_LEVEL=${c.logLevel}: debug logging may leak request data`)
  }
  if (c.appEnv === "production" && !c.privacy.gdprEnabled) {
    add("GDPR_ENABLED", "GDPR_ENABLED=false: production cannot turn GDPR off")
  }
  if (c.appEnv === "production" && c.chain.provider === "local") {
    add("CHAIN_PROVIDER", "CHAIN_PROVIDER=local: production must anchor on a real network (blockfrost or ogmios)")
  }
  return problems
}

/**
 * Every setting that is unsafe outside development for the processes given (by default every service:
 * the all-in-one process), each as one line naming the setting. A process is held only to what it reads
 * (shared/ServiceCatalog.ts `settingsOf`); a secret it needs and does not get names the variable and the
 * services that read it.
 */
export const insecureSettings = (
  c: AppConfigShape,
  processes: ReadonlyArray<ProcessName> = ServiceNames
): ReadonlyArray<string> => {
  if (c.appEnv === "development") return []
  const secrets = SecretVariables.flatMap((variable) => {
    const readers = processes.filter((p) => secretsOf(p).includes(variable))
    return readers.length > 0 && missingSecret(c, variable)
      ? [`${variable} is not set (needed by ${readers.join(", ")})`]
      : []
  })
  return [...secrets, ...unsafeSettings(c).flatMap((p) => (readsSetting(processes, p.variable) ? [p.message] : []))]
}

/** `SERVICE`: the processes whose settings this process is checked on ("all", a comma list, or a job). */
export const processesOf = (selection: string): ReadonlyArray<ProcessName> => {
  const names = selection
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
  if (names.length === 0 || names.includes("all")) return ServiceNames
  return names.flatMap((n): ReadonlyArray<ProcessName> => (isServiceName(n) ? [n] : n in Jobs ? ["migrate"] : []))
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
    const problems = insecureSettings(c, processesOf(c.service))
    if (problems.length > 0) return yield* new InsecureConfiguration({ appEnv: c.appEnv, problems })
    return c
  })
  static readonly layer = Layer.effect(AppConfig, AppConfig.load)
  static readonly layerWith = (c: AppConfigShape) => Layer.succeed(AppConfig, c)
}

export const isProductionLike = (env: AppEnv): boolean => env !== "development"
