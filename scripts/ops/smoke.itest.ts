import { randomBytes } from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import { deleteRedisPrefix } from "../../shared/testing/TestRedis.js"
import { runSmoke, serviceUrls } from "./Smoke.js"
import { freePort, runCliScript } from "./testSupport.js"

/**
 * The smoke checks against this machine's Postgres, Redis and NATS, with no platform running: the
 * dependency rows pass, the service rows fail, unconfigured observability rows are "skipped"; and a
 * Redis that does not answer turns its row red and the command's exit code to 1.
 */
// this run's own prefix: the workers check opens the queues (BullMQ writes each one's meta key), removed after
const run = `brandme_t_smoke_${randomBytes(4).toString("hex")}`
afterAll(() => deleteRedisPrefix(`${run}:`))

const base = {
  databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres",
  redisUrl: "redis://127.0.0.1:6379",
  redisQueueUrl: undefined,
  natsUrl: "nats://127.0.0.1:4222",
  queuePrefix: run,
  keyPrefix: `${run}:`,
  observability: {
    prometheus: undefined,
    alertmanager: undefined,
    grafana: undefined,
    loki: undefined,
    tempo: undefined,
    otelCollector: undefined
  },
  timeoutMs: 3000
}

const row = (results: ReadonlyArray<{ group: string; name: string; status: string }>, name: string) =>
  results.find((r) => r.name === name)?.status

describe("smoke", () => {
  it("passes reachable dependencies, fails absent services, skips unconfigured observability", async () => {
    // nothing listens at the catalog ports shifted by 50000 (ports 53000-58300)
    const results = await runSmoke({ ...base, services: serviceUrls({}, "127.0.0.1", 50_000) })
    expect(row(results, "postgres connect + version")).toBe("ok")
    expect(row(results, "redis ping + set/get")).toBe("ok")
    expect(row(results, "nats + jetstream")).toBe("ok")
    expect(row(results, "gateway ready")).toBe("FAIL")
    expect(row(results, "orchestrator workers")).toBe("FAIL")
    for (const o of ["prometheus", "grafana", "loki", "otel collector"]) expect(row(results, o)).toBe("skipped")
    // the postgres maintenance database has none of the platform tables
    expect(results.find((r) => r.name === "expected tables")).toMatchObject({
      status: "FAIL",
      detail: expect.stringContaining("missing: ")
    })
  })

  it("shows Redis red and exits 1 when Redis does not answer", async () => {
    const port = await freePort()
    const r = await runCliScript("scripts/smoke.ts", ["--timeout", "3000"], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_QUEUE_URL: `redis://127.0.0.1:${port}`,
      DATABASE_URL: base.databaseUrl,
      PORT_OFFSET: "50000"
    })
    expect(r.code).toBe(1)
    const cacheRow = r.stdout.split("\n").find((l) => l.startsWith("cache") && l.includes("redis ping + set/get"))
    expect(cacheRow).toMatch(/\bFAIL\b.*ECONNREFUSED/)
    expect(r.stdout).toMatch(/database\s+postgres connect \+ version\s+ok/)
    expect(r.stdout).toMatch(/observability\s+grafana\s+skipped/)
  })
})
