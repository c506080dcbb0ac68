/**
 * Each service, run alone as its pod runs it (`SERVICE=<name>`, here from source under tsx), loads only what it
 * uses: the drivers of the external systems its catalog entry declares (and opens those, /health says each is
 * up), no other service's server, and none of the heavy modules it has no use for. A top-level import that
 * drags a driver, the OpenTelemetry SDK, esbuild or a package index into every process fails here, naming
 * the service and the module. Memory itself is measured by `npm run bench:memory` on the compiled build.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Dependency, MetricsPorts, type ServiceName, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { createTestDatabase, type TestDatabase, uniqueId } from "../shared/testing/TestDatabase.js"
import { stopChild } from "../shared/testing/Processes.js"
import { randomPortOffset } from "../shared/testing/TestPlatform.js"
import { deleteRedisPrefix } from "../shared/testing/TestRedis.js"
import { deleteStreams, subjectPrefixOf } from "../shared/testing/TestStreams.js"

/** the packages that speak to each external system */
const drivers: Readonly<Record<Dependency, ReadonlyArray<string>>> = {
  database: ["pg", "@effect/sql-pg"],
  redis: ["ioredis"],
  nats: ["@nats-io/transport-node", "@nats-io/jetstream"],
  queue: ["bullmq"]
}

/** heavy modules a service has no use for unless named here */
const heavy: ReadonlyArray<{
  readonly module: string
  readonly by?: ReadonlyArray<ServiceName>
  readonly why: string
}> = [
  {
    module: "@cardano-sdk/core",
    by: ["chain", "orchestrator"],
    why: "the Cardano SDK is for anchoring (chain, the orchestrator's blockchain queue)"
  },
  { module: "esbuild", by: ["console"], why: "only the console bundles (its auditor page)" },
  { module: "@opentelemetry/sdk-trace-base", why: "the OTel SDK loads only with OTEL_EXPORTER_OTLP_ENDPOINT" },
  { module: "@effect/opentelemetry", why: "the OTel SDK loads only with OTEL_EXPORTER_OTLP_ENDPOINT" },
  { module: "@effect/cluster", why: "import @effect/platform-node's modules, not its index" },
  { module: "@effect/platform/dist/esm/index.js", why: "import @effect/platform's modules, not its index" },
  { module: "@effect/platform/dist/esm/HttpApiScalar.js", why: "the /docs page is made on its first request" }
]

/** the package a resolved module URL belongs to (`@scope/name` or `name`), or its path inside the repository */
const packageOf = (url: string): string => {
  const i = url.lastIndexOf("/node_modules/")
  if (i < 0) return url
  const parts = url.slice(i + "/node_modules/".length).split("/")
  return parts[0]?.startsWith("@") === true ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url)
}

/** a preload that records every module URL the process resolves (ESM hooks run on their own thread) */
const tracer = (file: string) => {
  const hooks = `import { appendFileSync } from "node:fs"
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(file)}, r.url + "\\n")
  return r
}`
  return `data:text/javascript,import { register } from "node:module"; register(${encodeURIComponent(
    JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)
  )});`
}

/** Whether nothing listens on 127.0.0.1:port right now. */
const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = createServer()
    probe.once("error", () => resolve(false))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
  })

describe("each service alone loads only what it uses", () => {
  let db: TestDatabase
  let dir: string
  const prefix = uniqueId("footprint")
  // one offset per service, chosen so its port is free now: below the ephemeral range (32768+) that the
  // other test files' freePort() draws from, so a parallel test cannot take it between check and start
  const offsetFor = async (service: ServiceName): Promise<number> => {
    for (;;) {
      const offset = randomPortOffset()
      if ((await portIsFree(Services[service].port + offset)) && (await portIsFree(MetricsPorts[service] + offset)))
        return offset
    }
  }
  beforeAll(async () => {
    db = await createTestDatabase("footprint")
    dir = mkdtempSync(join(tmpdir(), "footprint-"))
  })
  afterAll(async () => {
    await deleteStreams(prefix.toUpperCase())
    // REDIS_KEY_PREFIX `${prefix}:` and QUEUE_PREFIX `${prefix}` (its queues' keys: `${prefix}:<queue>:…`)
    await deleteRedisPrefix(`${prefix}:`)
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  /** runs one service until it is ready; its /health report and every module it resolved */
  const run = async (service: ServiceName, extraEnv: Readonly<Record<string, string>> = {}) => {
    const file = join(dir, `${service}-${Object.values(extraEnv).join("-")}.txt`)
    const offset = await offsetFor(service)
    const child = spawn(process.execPath, ["--import", "tsx", "--import", tracer(file), "services/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        SERVICE: service,
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: `${prefix}:`,
        QUEUE_PREFIX: prefix,
        NATS_STREAM_PREFIX: prefix.toUpperCase(),
        NATS_SUBJECT_PREFIX: subjectPrefixOf(prefix),
        PORT_OFFSET: String(offset),
        HTTP_HOST: "127.0.0.1",
        LOG_LEVEL: "error",
        ...extraEnv
      },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr?.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000)
    })
    const base = `http://127.0.0.1:${Services[service].port + offset}`
    try {
      const t0 = Date.now()
      let ready = false
      while (!ready && Date.now() - t0 < 60_000) {
        if (child.exitCode !== null) throw new Error(`${service} exited ${child.exitCode}: ${stderr}`)
        ready = await fetch(`${base}/health/ready`).then(
          (r) => r.status === 200,
          () => false
        )
        if (!ready) await new Promise((r) => setTimeout(r, 100))
      }
      expect(ready, `${service} ready within 60 s: ${stderr}`).toBe(true)
      const health = (await (await fetch(`${base}/health`)).json()) as {
        status: string
        dependencies: Record<string, { status: string; error?: string }>
      }
      return {
        health,
        modules: new Set(
          readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l !== "")
        )
      }
    } finally {
      await stopChild(child, 10_000)
    }
  }

  it.each(ServiceNames)("%s", async (service) => {
    const { health, modules } = await run(service)
    const packages = new Set([...modules].map(packageOf))
    const has = (module: string) => [...modules].some((url) => url.includes(`/node_modules/${module}`))
    // the trace sees the service's own code and its framework
    expect([...modules].some((url) => url.includes(`/services/${service}/Http.ts`))).toBe(true)
    expect(has("@effect/platform/dist/esm/HttpApiBuilder.js")).toBe(true)

    // it opens exactly the systems its catalog entry declares, and each is up
    // (a declared system the service's layer does not provide reports "not configured in this process")
    const declared = [...Services[service].required, ...Services[service].optional]
    expect(health.status, JSON.stringify(health.dependencies)).toBe("ok")
    for (const [dependency, packagesOf] of Object.entries(drivers)) {
      const uses = declared.some((d) => d === dependency)
      for (const p of packagesOf) {
        expect(packages.has(p), `${service} ${uses ? "uses" : "does not use"} ${dependency}, so ${p}`).toBe(uses)
      }
    }
    for (const h of heavy) {
      if (h.by?.includes(service) !== true) expect(has(h.module), `${service} loads ${h.module}: ${h.why}`).toBe(false)
    }
    // only the gateway mounts other services' groups (identity's, policy's, knowledge's) on its own server
    if (service !== "gateway") {
      const otherServers = [...modules].filter((url) =>
        ServiceNames.some((other) => other !== service && url.includes(`/services/${other}/Http.ts`))
      )
      expect(otherServers, `${service} loads another service's server`).toEqual([])
    }
  })

  // the beat only registers the job schedulers: none of the workers' modules (tasks, ports, the audit log, the
  // Cardano SDK) is loaded in its process (bench:memory: ~20 MiB less resident)
  it("orchestrator as the beat (ORCHESTRATOR_ROLE=beat)", async () => {
    const { health, modules } = await run("orchestrator", { ORCHESTRATOR_ROLE: "beat" })
    expect(health.status, JSON.stringify(health.dependencies)).toBe("ok")
    const loaded = (path: string) => [...modules].some((url) => url.includes(path))
    expect(loaded("/services/orchestrator/Beat.ts")).toBe(true)
    for (const path of [
      "/node_modules/@cardano-sdk/core",
      "/services/orchestrator/Workers.ts",
      "/services/orchestrator/Tasks.ts",
      "/services/orchestrator/scans/",
      "/services/orchestrator/Ports.ts",
      "/services/compliance/AuditLog.ts"
    ])
      expect(loaded(path), `the beat loads ${path}`).toBe(false)
  })
})
