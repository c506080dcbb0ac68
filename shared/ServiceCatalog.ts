/**
 * The one list of Brand.Me services: name, port, what each depends on and how it is probed.
 * The process entry point, the Pulumi stacks, docker-compose, Prometheus scrape configs and the
 * smoke test all read this list, so a port or a health path is never copied by hand.
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

export interface ServiceSpec {
  readonly name: ServiceName
  readonly port: number
  readonly description: string
  /** dependencies whose failure makes the service not ready */
  readonly required: ReadonlyArray<Dependency>
  /** dependencies whose failure only degrades the service */
  readonly optional: ReadonlyArray<Dependency>
  /**
   * One process's memory, from `npm run bench:memory` (compiled build): the pod's request covers its RSS
   * when ready, the limit its peak under the scan bench's load, with headroom. `nodeOptions` are its V8
   * flags (the pod's NODE_OPTIONS): a larger young generation (semi-space) means fewer scavenges under
   * heavy allocation and a larger resident heap; only the services with a throughput bench behind them
   * (gateway: bench:scan; orchestrator: bench:queue) get the image's 32 MB.
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
    memory: { requestMiB: 192, limitMiB: 256, nodeOptions: "--max-semi-space-size=32" }
  },
  brain: {
    name: "brain",
    port: 8000,
    description: "resolves the intent of a scan",
    required: [],
    optional: [],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  policy: {
    name: "policy",
    port: 8001,
    description: "consent records, regional and role rules, cached decisions",
    required: ["database", "redis"],
    optional: ["nats"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  identity: {
    name: "identity",
    port: 8100,
    description: "users, brands, devices, credentials and JWTs",
    required: ["database", "redis"],
    optional: ["nats"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  knowledge: {
    name: "knowledge",
    port: 8101,
    description: "garments and their facets",
    required: ["database", "redis"],
    optional: ["nats"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  compliance: {
    name: "compliance",
    port: 8102,
    description: "tamper-evident audit log, checkpoints, proofs, escalations",
    required: ["database"],
    optional: ["redis"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  chain: {
    name: "chain",
    port: 8103,
    description: "anchors audit checkpoints on Cardano",
    required: ["database"],
    optional: ["redis"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  agentic: {
    name: "agentic",
    port: 8200,
    description: "watches the event stream for clone tags and failure bursts",
    required: ["database", "nats"],
    optional: ["redis"],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  },
  orchestrator: {
    name: "orchestrator",
    port: 8300,
    description: "BullMQ workers and schedules",
    required: ["database", "queue"],
    optional: ["redis", "nats"],
    memory: { requestMiB: 192, limitMiB: 384, nodeOptions: "--max-semi-space-size=32" }
  },
  console: {
    name: "console",
    port: 3002,
    description: "web console for brands, owners and auditors",
    required: [],
    optional: [],
    memory: { requestMiB: 128, limitMiB: 192, nodeOptions: "--max-semi-space-size=8" }
  }
}

export const isServiceName = (s: string): s is ServiceName => (ServiceNames as ReadonlyArray<string>).includes(s)
