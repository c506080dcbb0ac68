import { type ChildProcess, spawn } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../shared/testing/TestDatabase.js"
import { startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"
import { Services } from "../shared/ServiceCatalog.js"
import { allMetricSpecs } from "../shared/telemetry/MetricCatalog.js"

const startRedis = (port: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("Ready to accept connections")) resolve(child)
    })
    child.on("error", reject)
  })

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

const getJson = async (url: string) => {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe("the platform's health, readiness and recovery", () => {
  let platform: TestPlatform
  let redis: ChildProcess
  let redisPort: number
  let base: string
  beforeAll(async () => {
    redisPort = await freePort()
    redis = await startRedis(redisPort)
    platform = await startTestPlatform({
      label: "health",
      services: ["gateway", "compliance"],
      env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_QUEUE_URL: `redis://127.0.0.1:${redisPort}` }
    })
    base = platform.url("gateway")
  })
  afterAll(async () => {
    await platform?.close()
    if (redis.exitCode === null) await stop(redis)
  })

  it("serves /health with every dependency, and the simple probes", async () => {
    const health = await getJson(`${base}/health`)
    expect(health.status).toBe(200)
    expect(health.body.status).toBe("ok")
    expect(health.body.service).toBe("gateway")
    const deps = health.body.dependencies as Record<string, { status: string; latencyMs: number; pool?: unknown }>
    expect(Object.keys(deps).sort()).toEqual(["database", "nats", "queue", "redis"])
    expect(Object.values(deps).every((d) => d.status === "up" && typeof d.latencyMs === "number")).toBe(true)
    expect(deps.database?.pool).toMatchObject({ max: 10 })
    expect((await fetch(`${base}/health/live`)).status).toBe(200)
    expect((await fetch(`${base}/health/startup`)).status).toBe(200)
    const healthz = await fetch(`${base}/healthz`)
    expect(healthz.status).toBe(200)
    expect(await healthz.text()).toBe("ok")
    // metrics on the metrics port only; the service port answers 404 there
    expect((await fetch(`${base}/metrics`)).status).toBe(404)
    const metrics = await (await fetch(platform.metricsUrl("gateway"))).text()
    expect(metrics).toContain("process_resident_memory_bytes")
    expect(metrics).toContain(
      'brandme_http_requests_total{service="gateway",route="/health",method="GET",status="200"}'
    )
    // every catalog metric is exposed by a running service
    for (const spec of allMetricSpecs()) expect(metrics, spec.name).toContain(`# TYPE ${spec.name} ${spec.type}`)
  })

  it("answers unknown routes and oversize bodies with a JSON error and a request id", async () => {
    const res = await fetch(`${base}/no/such/route`, { headers: { "x-request-id": "req-123" } })
    expect(res.status).toBe(404)
    expect(res.headers.get("x-request-id")).toBe("req-123")
    expect(await res.json()).toEqual({ error: "NotFound", message: "no route for GET /no/such/route" })
    const big = await fetch(`${base}/health`, { method: "POST", body: "x".repeat(2_000_000) })
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: string }).error).toBe("PayloadTooLarge")
  })

  it("fails readiness naming Redis while it is down, and recovers without a restart", async () => {
    expect((await getJson(`${base}/health/ready`)).status).toBe(200)
    await stop(redis)
    const down = await getJson(`${base}/health/ready`)
    expect(down.status).toBe(503)
    expect(down.body.error).toBe("NotReady")
    expect(String(down.body.message)).toContain("redis is down")
    expect((down.body.details as { failing: Array<string> }).failing).toContain("redis")
    // an optional dependency never makes a service unready: compliance needs Postgres, Redis only optionally
    const complianceBase = platform.url("compliance")
    expect(Services.compliance.optional).toContain("redis")
    const complianceReady = await getJson(`${complianceBase}/health/ready`)
    expect(complianceReady.status).toBe(200)
    const complianceHealth = await getJson(`${complianceBase}/health`)
    expect(complianceHealth.body.status).toBe("degraded")

    redis = await startRedis(redisPort)
    const t0 = Date.now()
    let status = 0
    while (Date.now() - t0 < 10_000) {
      status = (await fetch(`${base}/health/ready`)).status
      if (status === 200) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(status).toBe(200)
    expect(Date.now() - t0).toBeLessThan(10_000)
  })
})

describe("process start-up", () => {
  const runMain = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "services/main.ts"], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d) => {
        stderr += d
      })
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
      child.on("close", (code) => {
        clearTimeout(timer)
        resolve({ code, stderr })
      })
    })

  it("refuses to start in production on what the service reads, naming each missing secret with its service", async () => {
    const orchestrator = await runMain({ APP_ENV: "production", SERVICE: "orchestrator" })
    expect(orchestrator.code).not.toBe(0)
    for (const secret of ["AUDIT_SIGNING_KEY", "PII_MASTER_KEY", "CHAIN_SIGNING_KEY", "WEBHOOK_SIGNING_SECRET"]) {
      expect(orchestrator.stderr).toContain(`${secret} is not set (needed by orchestrator)`)
    }
    for (const setting of ["DATABASE_URL", "REDIS_URL", "REDIS_QUEUE_URL"])
      expect(orchestrator.stderr).toContain(setting)
    expect(orchestrator.stderr).toContain("refusing to start in production")
    expect(orchestrator.stderr).not.toContain("    at ")
    // policy is held to its own secrets and connections, not to the orchestrator's or the signers'
    const policyRun = await runMain({ APP_ENV: "production", SERVICE: "policy" })
    expect(policyRun.code).not.toBe(0)
    for (const needed of [
      "DATABASE_URL",
      "REDIS_URL",
      "JWT_PUBLIC_KEY is not set (needed by policy)",
      "SERVICE_TOKEN_KEY is not set (needed by policy)"
    ])
      expect(policyRun.stderr).toContain(needed)
    for (const secret of ["AUDIT_SIGNING_KEY", "CHAIN_SIGNING_KEY", "JWT_PRIVATE_KEY", "WEBHOOK_SIGNING_SECRET"])
      expect(policyRun.stderr).not.toContain(secret)
  })

  it("rejects an unknown SERVICE with a clear message", async () => {
    const { code, stderr } = await runMain({
      SERVICE: "gatewya",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres"
    })
    expect(code).not.toBe(0)
    expect(stderr).toContain('SERVICE must be "all"')
  })
})
