/**
 * The one list of Brand.Me services: name, port, what each depends on, whom it calls, which secrets and
 * own settings it reads, and how it is probed. The process entry point (its production checks), the
 * Pulumi stacks (env, Secrets), docker-compose, `npm start`, Prometheus scrape configs and the smoke test
 * all read this list, so a port, an address or a secret is never wired by hand.
 */
export const ServiceNames = [
  "gateway",
  "brain",
  "policy",
  "identity",
  "knowledge",
  "compliance",
  "chain",
  "agentic",
  "orchestrator",
  "console"
] as const

export type ServiceName = (typeof ServiceNames)[number]

export type Dependency = "database" | "redis" | "nats" | "queue"

/**
 * Secrets a production process reads, each one env variable; stacks deliver them through ExternalSecrets and
 * compose through its env file. (JWT_SECRET, the HS256 key, is for development only: staging and production
 * sign with the EdDSA pair.)
 */
export const SecretVariables = [
  "JWT_PRIVATE_KEY",
  "JWT_PUBLIC_KEY",
  "AUDIT_SIGNING_KEY",
  "CHAIN_SIGNING_KEY",
  "BLOCKFROST_PROJECT_ID",
  "PII_MASTER_KEY",
  "WEBHOOK_SIGNING_SECRET",
  // the HMAC key of service tokens (shared/auth/ServiceTokens.ts): read by every service that calls or is called
  "SERVICE_TOKEN_KEY"
] as const
export type SecretVariable = (typeof SecretVariables)[number]

/** The chain adapter's settings (shared/config/ServiceSettings.ts): read by chain and by the orchestrator's anchoring. */
const ChainSettings = ["CHAIN_PROVIDER", "CHAIN_NETWORK", "BLOCKFROST_URL", "OGMIOS_URL", "CHAIN_LOCAL_CONFIRM_MS"]

export interface ServiceSpec {
  readonly name: ServiceName
  readonly port: number
  readonly description: string
  /** dependencies whose failure makes the service not ready */
  readonly required: ReadonlyArray<Dependency>
  /** dependencies whose failure only degrades the service */
  readonly optional: ReadonlyArray<Dependency>
  /** services it calls over HTTP when run alone, each at `<NAME>_URL` (callUrlVariable) */
  readonly calls: ReadonlyArray<ServiceName>
  /** secrets it reads; a production process refuses to start without each one, naming service and variable */
  readonly secrets: ReadonlyArray<SecretVariable>
  /** its own settings, beyond the common ones and those of its dependencies and calls */
  readonly settings: ReadonlyArray<string>
  /**
   * One process's memory, from `npm run bench:memory` (compiled build, docs/memory.md): the pod's request
   * covers its RSS when ready, the limit its peak under the scan bench's load, with headroom. `nodeOptions`
   * are its V8 flags (the pod's and the compose service's NODE_OPTIONS; the benches use them too): an
   * old-generation cap, so V8 collects before the heap outgrows the pod rather than when the machine runs
   * short, and a young-generation (semi-space) size: larger means fewer scavenges under heavy allocation and
   * more memory under load; only the gateway (bench:scan) gets 16 MB.
   */
  readonly memory: { readonly requestMiB: number; readonly limitMiB: number; readonly nodeOptions: string }
}

export const HealthPaths = {
  health: "/health",
  live: "/health/live",
  ready: "/health/ready",
  startup: "/health/startup",
  simple: "/healthz",
  metrics: "/metrics"
} as const

export const Services: Readonly<Record<ServiceName, ServiceSpec>> = {
  gateway: {
    name: "gateway",
    port: 3000,
    description: "public HTTP API: scans, garments, ownership, privacy rights",
    required: ["database", "redis", "queue"],
    optional: ["nats"],
    // serves identity's, policy's and knowledge's public groups in-process: signs tokens, seals personal data.
    // Calls brain, policy and knowledge on every cold scan; the others only for the admins' operations page
    // (services/orchestrator/Ops.ts reads each service's /health)
    calls: ["brain", "policy", "knowledge", "identity", "compliance", "chain", "agentic", "orchestrator", "console"],
    secrets: ["JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "PII_MASTER_KEY", "SERVICE_TOKEN_KEY"],
    settings: [
      "INTERNAL_CALLS",
      "RATE_LIMIT_PER_IP",
      "RATE_LIMIT_PER_CLIENT",
      "RATE_LIMIT_OVERRIDES",
      "JWT_ISSUER",
      "GDPR_ENABLED",
      "CCPA_ENABLED",
      "GEO_REGION_HEADER",
      "UNKNOWN_REGION_REGIME"
    ],
    memory: { requestMiB: 192, limitMiB: 256, nodeOptions: "--max-semi-space-size=16 --max-old-space-size=96" }
  },
  brain: {
    name: "brain",
    port: 8000,
    description: "resolves the intent of a scan",
    required: [],
    optional: [],
    calls: [],
    secrets: ["SERVICE_TOKEN_KEY"],
    settings: [],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  policy: {
    name: "policy",
    port: 8001,
    description: "consent records, regional and role rules, cached decisions",
    required: ["database", "redis"],
    optional: ["nats", "queue"],
    calls: [],
    secrets: ["JWT_PUBLIC_KEY", "PII_MASTER_KEY", "SERVICE_TOKEN_KEY"],
    settings: ["JWT_ISSUER", "GDPR_ENABLED", "CCPA_ENABLED", "UNKNOWN_REGION_REGIME"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  identity: {
    name: "identity",
    port: 8100,
    description: "users, brands, devices, credentials and JWTs",
    required: ["database", "redis"],
    optional: ["nats", "queue"],
    calls: [],
    secrets: ["JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY", "PII_MASTER_KEY", "SERVICE_TOKEN_KEY"],
    settings: ["JWT_ISSUER"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  knowledge: {
    name: "knowledge",
    port: 8101,
    description: "garments and their facets",
    required: ["database", "redis"],
    optional: ["nats"],
    calls: [],
    secrets: ["JWT_PUBLIC_KEY", "PII_MASTER_KEY", "SERVICE_TOKEN_KEY"],
    settings: ["JWT_ISSUER"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  compliance: {
    name: "compliance",
    port: 8102,
    description: "tamper-evident audit log, checkpoints, proofs, escalations",
    required: ["database"],
    optional: ["redis"],
    calls: [],
    secrets: ["JWT_PUBLIC_KEY", "PII_MASTER_KEY", "SERVICE_TOKEN_KEY"],
    settings: ["JWT_ISSUER", "AUDIT_LOG_ORIGIN"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  chain: {
    name: "chain",
    port: 8103,
    description: "anchors audit checkpoints on Cardano",
    required: ["database"],
    optional: ["redis"],
    calls: [],
    secrets: ["JWT_PUBLIC_KEY", "CHAIN_SIGNING_KEY", "BLOCKFROST_PROJECT_ID", "SERVICE_TOKEN_KEY"],
    settings: ["JWT_ISSUER", "AUDIT_LOG_ORIGIN", ...ChainSettings],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  agentic: {
    name: "agentic",
    port: 8200,
    description: "watches the event stream for clone tags and failure bursts",
    required: ["database", "nats"],
    optional: ["redis"],
    calls: [],
    secrets: ["SERVICE_TOKEN_KEY"],
    settings: ["AGENTIC_CLONE_WINDOW_SECONDS", "AGENTIC_FAILED_AUTH_THRESHOLD", "AGENTIC_FAILED_AUTH_WINDOW_SECONDS"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  },
  orchestrator: {
    name: "orchestrator",
    port: 8300,
    description: "BullMQ workers and schedules",
    required: ["database", "queue"],
    optional: ["redis", "nats"],
    // signs checkpoints, anchors them (in-process chain port), sends signed webhooks, seals audit parties
    calls: [],
    secrets: [
      "AUDIT_SIGNING_KEY",
      "CHAIN_SIGNING_KEY",
      "BLOCKFROST_PROJECT_ID",
      "PII_MASTER_KEY",
      "WEBHOOK_SIGNING_SECRET",
      "SERVICE_TOKEN_KEY"
    ],
    settings: [
      "ORCHESTRATOR_ROLE",
      // crash tests only (refused outside development): where the worker kills itself
      "TEST_CRASH_POINT",
      "AUDIT_LOG_ORIGIN",
      "SCAN_RETENTION_DAYS",
      "NOTIFICATION_RETENTION_DAYS",
      "WEBHOOK_TIMEOUT_MS",
      "QUEUE_SCAN_BATCH_SIZE",
      "QUEUE_SCAN_BATCH_LINGER_MS",
      "QUEUE_SCAN_JOBS_IN_FLIGHT",
      "QUEUE_LOCK_DURATION_MS",
      "QUEUE_STALLED_INTERVAL_MS",
      "QUEUE_MAX_STALLED_COUNT",
      "QUEUE_DEPTH_POLL_MS",
      "BEAT_CLEANUP_EVERY_MS",
      "BEAT_AUDIT_INTEGRITY_EVERY_MS",
      "BEAT_CHAIN_SYNC_EVERY_MS",
      "BEAT_CHECKPOINT_EVERY_MS",
      ...ChainSettings
    ],
    memory: { requestMiB: 192, limitMiB: 384, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=128" }
  },
  console: {
    name: "console",
    port: 3002,
    description: "web console for brands, owners and auditors",
    required: [],
    optional: [],
    calls: ["gateway", "compliance", "chain"],
    secrets: ["SERVICE_TOKEN_KEY"],
    settings: ["CONSOLE_GRAFANA_URL"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8 --max-old-space-size=96" }
  }
}

/**
 * Where each service serves `/metrics`: its own port, apart from the service port, so Prometheus (the
 * observability namespace) is admitted to this port alone and a service's callers never read its metrics.
 * `npm start` runs every service in one process: each still listens on its own metrics port (+ PORT_OFFSET),
 * so every series keeps its `service` target label and the local scrape config has one job per service.
 * Ten apart, so a test's extra gateway replica (PORT_OFFSET + n) never lands on another service's port.
 */
export const MetricsPorts: Readonly<Record<ServiceName, number>> = {
  gateway: 9400,
  brain: 9410,
  policy: 9420,
  identity: 9430,
  knowledge: 9440,
  compliance: 9450,
  chain: 9460,
  agentic: 9470,
  orchestrator: 9480,
  console: 9490
}

/** The Service / container port name Prometheus scrapes (ServiceMonitors select it by name). */
export const MetricsPortName = "metrics"

/** One-shot processes beside the services: the migration Job (stacks) and compose's `migrate`. */
export const Jobs = {
  migrate: { name: "migrate", required: ["database"], secrets: [], settings: ["MIGRATIONS_DIR"] }
} as const satisfies Record<string, Pick<ServiceSpec, "required" | "secrets" | "settings"> & { readonly name: string }>
export type JobName = keyof typeof Jobs

/** What a process runs: one service, or a job. Its settings, secrets and production checks follow from it. */
export type ProcessName = ServiceName | JobName

/** The env variable a caller reads for a callee's base URL: `BRAIN_URL`, `COMPLIANCE_URL`, … */
export const callUrlVariable = (callee: ServiceName): string => `${callee.toUpperCase()}_URL`

/** The address a service listens on in one process (`npm start`, tests): 127.0.0.1 and its port + offset. */
export const localUrl = (service: ServiceName, portOffset: number): string =>
  `http://127.0.0.1:${Services[service].port + portOffset}`

/** Who calls a service: the only callers its port admits (service tokens, NetworkPolicies). */
export const callersOf = (callee: ServiceName): ReadonlyArray<ServiceName> =>
  ServiceNames.filter((n) => Services[n].calls.includes(callee))

/**
 * Services that answer people, not only services: the gateway (the public API, behind the ingress) and the
 * console (browsers). Their users' own credentials are their gate. Every other service's port answers only a
 * request carrying a service token of one of its declared callers (shared/auth/ServiceTokens.ts), health and
 * metrics paths aside.
 */
export const PeopleFacing: ReadonlyArray<ServiceName> = ["gateway", "console"]
export const requiresServiceToken = (service: ServiceName): boolean => !PeopleFacing.includes(service)

/** Paths every service port answers without a service token: the probes (metrics have their own port, MetricsPorts). */
export const OpenPaths: ReadonlySet<string> = new Set(
  Object.values(HealthPaths).filter((p) => p !== HealthPaths.metrics)
)

/** Settings every process reads (AppConfig's common part, the HTTP server, telemetry). */
export const CommonSettings = [
  "SERVICE",
  "APP_ENV",
  "APP_VERSION",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "HTTP_HOST",
  "HTTP_MAX_BODY_BYTES",
  "SHUTDOWN_GRACE_MS",
  "HEAP_TRIM_INTERVAL_MS",
  "PORT_OFFSET",
  "HTTP_TRUSTED_PROXY_HOPS",
  "HTTP_MAX_JSON_DEPTH",
  "HTTP_HEADERS_TIMEOUT_MS",
  "HTTP_REQUEST_TIMEOUT_MS",
  "HTTP_MAX_CONNECTIONS_PER_CLIENT",
  "HTTP_CORS_ORIGINS",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "FEATURE_DEMO_DATA"
] as const

/** The settings a dependency brings (connection secrets like DATABASE_URL carry passwords: see connectionSecrets). */
export const DependencySettings: Readonly<Record<Dependency, ReadonlyArray<string>>> = {
  database: [
    "DATABASE_URL",
    "DATABASE_SSL",
    "DATABASE_POOL_MAX",
    "DATABASE_POOL_IDLE_TIMEOUT_MS",
    "DATABASE_CONNECT_TIMEOUT_MS"
  ],
  redis: ["REDIS_URL", "REDIS_KEY_PREFIX"],
  queue: ["REDIS_QUEUE_URL", "QUEUE_PREFIX", "QUEUE_CONCURRENCY"],
  nats: ["NATS_URL", "NATS_STREAM_PREFIX", "NATS_SUBJECT_PREFIX"]
}

/** Connection strings that carry a password: delivered as secrets, like SecretVariables. */
export const ConnectionSecrets: Readonly<Partial<Record<Dependency, string>>> = {
  database: "DATABASE_URL",
  redis: "REDIS_URL",
  queue: "REDIS_QUEUE_URL"
}

const dependenciesOf = (p: ProcessName): ReadonlyArray<Dependency> =>
  p === "migrate" ? Jobs.migrate.required : [...Services[p].required, ...Services[p].optional]

/** Every secret a process needs: its connection strings and its SecretVariables. */
export const secretsOf = (p: ProcessName): ReadonlyArray<string> => [
  ...dependenciesOf(p).flatMap((d) => ConnectionSecrets[d] ?? []),
  ...(p === "migrate" ? Jobs.migrate.secrets : Services[p].secrets)
]

/** Every variable a process reads: common settings, its dependencies', its callees' URLs, its own, its secrets. */
export const settingsOf = (p: ProcessName): ReadonlySet<string> =>
  new Set([
    ...CommonSettings,
    ...dependenciesOf(p).flatMap((d) => DependencySettings[d]),
    ...(p === "migrate" ? [] : Services[p].calls.map(callUrlVariable)),
    ...(p === "migrate" ? Jobs.migrate.settings : Services[p].settings),
    ...secretsOf(p)
  ])

/** Whether any of the processes reads a variable (a process running several services reads their union). */
export const readsSetting = (processes: ReadonlyArray<ProcessName>, variable: string): boolean =>
  processes.some((p) => settingsOf(p).has(variable))

export const isServiceName = (s: string): s is ServiceName => (ServiceNames as ReadonlyArray<string>).includes(s)
