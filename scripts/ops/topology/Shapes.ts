import { readFileSync } from "node:fs"
import { parse } from "yaml"
import {
  HealthPaths,
  isServiceName,
  type ProcessName,
  type SecretVariable,
  Services
} from "../../../shared/ServiceCatalog.js"
import { type RecordedResource, runStack } from "../../../stacks/offline/harness.js"
import { isExporter, kubernetesObjects } from "../../../stacks/offline/render.js"
import { type RenderedWorkload, renderedWorkloads } from "../../../stacks/offline/workloadEnv.js"
import { ComposePath, interpolate } from "../Compose.js"
import { defaultTarget, execForm, readDockerfile } from "../Dockerfile.js"

/**
 * The shapes we ship, rendered into what the topology test starts: per workload its process, env, secret
 * references, command, port, readiness path, grace period and the DNS names that reach it; plus where the
 * data services live and whether they speak TLS. The stack list is here, once: add a stack (e.g. `aws`)
 * to TopologyStacks and the topology test runs it too.
 */
export const TopologyStacks = ["dev", "prod", "prod-aws"] as const
export const TopologyShapes = [...TopologyStacks, "compose"] as const
export type TopologyShape = (typeof TopologyShapes)[number]
export const isTopologyShape = (s: string): s is TopologyShape => TopologyShapes.some((x) => x === s)

export interface PlannedWorkload {
  readonly name: string
  readonly kind: "job" | "service"
  readonly process: ProcessName
  readonly env: Readonly<Record<string, string>>
  readonly secretRefs: ReadonlySet<string>
  readonly command: ReadonlyArray<string>
  readonly port: number | undefined
  readonly readiness: string
  readonly graceSeconds: number
  /** DNS names that resolve to this workload (its Service or compose name) */
  readonly hosts: ReadonlyArray<string>
  /** container paths of the CA bundle mount, replaced by the local CA's folder */
  readonly caMounts: ReadonlyArray<string>
}

/** A data-store exporter Deployment (stacks/components/Exporters.ts) as rendered: what its container runs. */
export interface PlannedExporter {
  readonly name: string
  /** the exporter it runs (`app.kubernetes.io/component`): postgres-exporter, redis-exporter */
  readonly job: string
  readonly namespace: string
  readonly args: ReadonlyArray<string>
  /** literal env */
  readonly env: Readonly<Record<string, string>>
  /** env read from a Secret → the app variable the workloads read from that same Secret (DATA_SOURCE_NAME → DATABASE_URL) */
  readonly secretEnv: Readonly<Record<string, string>>
  /** the container port named `metrics` */
  readonly port: number
  readonly caMounts: ReadonlyArray<string>
}

export type DataService = "postgres" | "redisCache" | "redisQueue" | "nats" | "otel"

export interface ShapePlan {
  readonly shape: TopologyShape
  readonly workloads: ReadonlyArray<PlannedWorkload>
  /** host names of each data service as the shape's env and secrets name them */
  readonly dataHosts: Readonly<Record<DataService, ReadonlyArray<string>>>
  readonly tls: boolean
  /** the values the shape's secret references are filled from */
  readonly secrets: Readonly<Record<string, string>>
  /** the public host the scan goes to and the console host */
  readonly gatewayHost: string
  readonly consoleHost: string
  /** the stacks' exporter Deployments (compose: none planned) */
  readonly exporters: ReadonlyArray<PlannedExporter>
  /** the rendered stack (compose: none): its ServiceMonitors, Services and Deployments */
  readonly resources: ReadonlyArray<RecordedResource>
}

const hostOf = (url: string | undefined): ReadonlyArray<string> => {
  if (url === undefined) return []
  try {
    return [new URL(url).hostname]
  } catch {
    return []
  }
}

export interface TestSecrets {
  readonly password: string
  readonly jwtPrivateKey: string
  readonly jwtPublicKey: string
  readonly hex: () => string
}

/** Stacks: the data services behind the secret URLs the test's secret map gives (as Memorystore: AUTH + TLS). */
const stackSecretHosts = {
  postgres: "brandme-pg.data.internal",
  redisCache: "redis-cache.data.internal",
  redisQueue: "redis-queue.data.internal"
}

/** one value per catalog secret (the type makes a new SecretVariable a compile error here until it has one) */
const appSecrets = (t: TestSecrets): Record<SecretVariable, string> => ({
  JWT_PRIVATE_KEY: t.jwtPrivateKey,
  JWT_PUBLIC_KEY: t.jwtPublicKey,
  AUDIT_SIGNING_KEY: t.hex(),
  CHAIN_SIGNING_KEY: t.hex(),
  PII_MASTER_KEY: t.hex(),
  WEBHOOK_SIGNING_SECRET: t.hex(),
  BLOCKFROST_PROJECT_ID: `mainnet${t.hex().slice(0, 32)}`,
  SERVICE_TOKEN_KEY: t.hex()
})

/**
 * A stack that mounts no CA bundle (cloud aws: ElastiCache's certificates chain to Amazon's public CA, which
 * Node trusts already) stands the local CA in for the system trust store: NODE_EXTRA_CA_CERTS at a path the
 * runner maps to the local CA's folder, as it does for a mounted bundle.
 */
const TrustStoreStandIn = "/etc/ssl/public-roots"

const rec = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])

const plannedExporters = (
  resources: ReadonlyArray<RecordedResource>,
  workloads: ReadonlyArray<RenderedWorkload>
): ReadonlyArray<PlannedExporter> => {
  // a Secret's name → the app variable a workload reads from it
  const appVariable = new Map(
    workloads.flatMap((w) => [...w.secretRefs].map(([env, ref]) => [ref.secret, env] as const))
  )
  return kubernetesObjects(resources, true).flatMap(({ object }) => {
    if (object?.kind !== "Deployment" || !isExporter(object)) return []
    const c = rec(arr(rec(rec(rec(object.spec).template).spec).containers)[0])
    const env: Record<string, string> = {}
    const secretEnv: Record<string, string> = {}
    for (const e of arr(c.env).map(rec)) {
      const secret = rec(rec(e.valueFrom).secretKeyRef).name
      if (e.valueFrom === undefined) env[String(e.name)] = String(e.value ?? "")
      else {
        const from = appVariable.get(String(secret))
        if (from === undefined)
          throw new Error(`exporter ${object.metadata.name}: no workload reads Secret ${String(secret)}`)
        secretEnv[String(e.name)] = from
      }
    }
    const port = arr(c.ports)
      .map(rec)
      .find((p) => p.name === "metrics")?.containerPort
    if (typeof port !== "number") throw new Error(`exporter ${object.metadata.name}: no metrics port`)
    return [
      {
        name: object.metadata.name,
        job: object.metadata.labels?.["app.kubernetes.io/component"] ?? "",
        namespace: object.metadata.namespace ?? "default",
        args: arr(c.args).map(String),
        env,
        secretEnv,
        port,
        caMounts: arr(c.volumeMounts)
          .map(rec)
          .filter((m) => m.name === "ca-bundle")
          .map((m) => String(m.mountPath))
      }
    ]
  })
}

const planStack = async (stack: string, t: TestSecrets): Promise<ShapePlan> => {
  const run = await runStack(stack)
  const rendered = renderedWorkloads(run.resources)
  const mountsCa = rendered.some((w) => w.volumeMounts.some((m) => m.name === "ca-bundle"))
  const workloads = rendered.map(
    (w): PlannedWorkload => ({
      name: w.name,
      kind: w.kind === "Job" ? "job" : "service",
      process: w.process,
      env: mountsCa ? w.env : { ...w.env, NODE_EXTRA_CA_CERTS: `${TrustStoreStandIn}/ca.pem` },
      secretRefs: new Set(w.secretRefs.keys()),
      command: w.command,
      port: w.port,
      readiness: w.probes.readiness ?? HealthPaths.ready,
      graceSeconds: w.terminationGracePeriodSeconds,
      hosts: w.kind === "Job" ? [] : [`${w.name}.${w.namespace}.svc.cluster.local`],
      caMounts: mountsCa
        ? w.volumeMounts.filter((m) => m.name === "ca-bundle").map((m) => m.mountPath)
        : [TrustStoreStandIn]
    })
  )
  const any = rendered[0]?.env ?? {}
  const h = stackSecretHosts
  return {
    shape: stack as TopologyShape,
    workloads,
    dataHosts: {
      postgres: [h.postgres],
      redisCache: [h.redisCache],
      redisQueue: [h.redisQueue],
      nats: hostOf(any.NATS_URL),
      otel: hostOf(any.OTEL_EXPORTER_OTLP_ENDPOINT)
    },
    tls: true,
    secrets: {
      DATABASE_URL: `postgres://brandme:${t.password}@${h.postgres}:5432/brandme`,
      REDIS_URL: `rediss://:${t.password}@${h.redisCache}:6379`,
      REDIS_QUEUE_URL: `rediss://:${t.password}@${h.redisQueue}:6379`,
      ...appSecrets(t)
    },
    gatewayHost: workloads.find((w) => w.name === "gateway")?.hosts[0] ?? "gateway",
    consoleHost: workloads.find((w) => w.name === "console")?.hosts[0] ?? "console",
    exporters: plannedExporters(run.resources, rendered),
    resources: run.resources
  }
}

interface ComposeService {
  readonly image?: string
  readonly command?: ReadonlyArray<string>
  readonly environment?: Record<string, unknown>
  readonly stop_grace_period?: string
}

const planCompose = (t: TestSecrets): ShapePlan => {
  const doc = parse(readFileSync(ComposePath, "utf8"), { merge: true }) as { services: Record<string, ComposeService> }
  const image = defaultTarget(readDockerfile())
  const cmd = image.stage.instructions.findLast((i) => i.op === "CMD")?.args
  const platformImage = doc.services.gateway?.image
  // the operator's env file (deploy/compose.env.example names these)
  const vars = { POSTGRES_PASSWORD: t.password, REDIS_PASSWORD: t.password, ...appSecrets(t) }
  const workloads = Object.entries(doc.services).flatMap(([name, s]): ReadonlyArray<PlannedWorkload> => {
    if (s.image === undefined || s.image !== platformImage) return []
    const env: Record<string, string> = { ...image.env }
    const refs = new Set<string>()
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (String(v).includes("${")) refs.add(k)
      const r = interpolate(String(v), vars)
      env[k] = "value" in r ? r.value : ""
    }
    const process = env.SERVICE === "migrate" ? "migrate" : env.SERVICE
    if (process === undefined || !(process === "migrate" || isServiceName(process)))
      throw new Error(`compose ${name}: SERVICE=${String(process)}`)
    const grace = /^(\d+)s$/.exec(s.stop_grace_period ?? "10s")
    return [
      {
        name,
        kind: process === "migrate" ? "job" : "service",
        process,
        env,
        secretRefs: refs,
        command: s.command ?? (cmd === undefined ? [] : execForm(cmd)),
        port: process === "migrate" ? undefined : Services[process].port,
        readiness: HealthPaths.ready,
        graceSeconds: Number(grace?.[1] ?? 10),
        hosts: process === "migrate" ? [] : [name],
        caMounts: []
      }
    ]
  })
  return {
    shape: "compose",
    workloads,
    dataHosts: {
      postgres: ["postgres"],
      redisCache: ["redis-cache"],
      redisQueue: ["redis-queue"],
      nats: ["nats"],
      otel: ["otel-collector"]
    },
    tls: false,
    secrets: {},
    gatewayHost: "gateway",
    consoleHost: "console",
    exporters: [],
    resources: []
  }
}

export const planShape = (shape: TopologyShape, t: TestSecrets): Promise<ShapePlan> =>
  shape === "compose" ? Promise.resolve(planCompose(t)) : planStack(shape, t)
