import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Exit, Layer, Scope } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfig } from "../shared/config/AppConfig.js"
import { ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { makeTracingLayer } from "../shared/telemetry/Tracing.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../shared/testing/TestDatabase.js"
import { demoGarments, loadDemoData } from "../scripts/DemoData.js"
import { makeDatabaseLayer } from "../shared/layers/Database.js"
import { startServices } from "./Platform.js"

/** One scan is one trace: gateway → policy → knowledge → the persist job → the SQL insert. */
describe("distributed tracing", () => {
  let db: TestDatabase
  let scope: Scope.CloseableScope
  let base: string
  const exporter = new InMemorySpanExporter()

  beforeAll(async () => {
    db = await createTestDatabase("trace")
    const offset = 20000 + Math.floor(Math.random() * 20000)
    const config = testConfig({
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: `${uniqueId("trace")}:`,
      QUEUE_PREFIX: uniqueId("tq"),
      NATS_STREAM_PREFIX: uniqueId("TR").toUpperCase(),
      PORT_OFFSET: String(offset),
      HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "error",
      INTERNAL_CALLS: "http"
    })
    await Effect.runPromise(
      loadDemoData.pipe(
        Effect.provide(
          makeDatabaseLayer({
            url: db.url,
            poolMax: 2,
            idleTimeoutMs: 1000,
            connectTimeoutMs: 5000,
            ssl: "disable",
            applicationName: "t"
          })
        ),
        Effect.provide(Layer.succeed(AppConfig, config))
      )
    )
    scope = Effect.runSync(Scope.make())
    const processor = new SimpleSpanProcessor(exporter)
    await Effect.runPromise(
      startServices(ServiceNames, "trace-test", {
        tracing: (service) =>
          makeTracingLayer({
            serviceName: service,
            serviceVersion: "test",
            environment: "test",
            spanProcessor: processor
          })
      }).pipe(Effect.provide(Layer.succeed(AppConfig, config)), Scope.extend(scope))
    )
    base = `http://127.0.0.1:${Services.gateway.port + offset}`
  })
  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await db.drop()
  })

  it("holds the gateway, policy, knowledge, job and SQL-insert spans in one trace", async () => {
    const g = demoGarments[1]!
    const res = await fetch(`${base}/v1/scans`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: `https://id.example.com/01/${g.gtin}/21/${g.serial}`, context: { region: "DE" } })
    })
    expect(res.status).toBe(200)
    const { scanId } = (await res.json()) as { scanId: string }
    // wait until the orchestrator has persisted the scan
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      for (let i = 0; i < 100; i++) {
        const r = await client.query("SELECT 1 FROM scan_events WHERE id = $1", [scanId])
        if (r.rowCount === 1) break
        await new Promise((r) => setTimeout(r, 100))
      }
    } finally {
      await client.end()
    }
    await new Promise((r) => setTimeout(r, 500))
    const spans = exporter.getFinishedSpans()
    const root = spans.find((s) => s.name === "Gateway.scan")
    expect(root, spans.map((s) => s.name).join(", ")).toBeDefined()
    const traceId = root!.spanContext().traceId
    const inTrace = spans.filter((s: ReadableSpan) => s.spanContext().traceId === traceId)
    const names = inTrace.map((s) => s.name)
    const services = new Set(inTrace.map((s) => String(s.resource.attributes["service.name"])))
    // the gateway's scan route is served by its lean lane: Gateway.scan is the server span (kind server)
    expect(root!.kind).toBe(1)
    expect(names).toContain("Policy.decide")
    expect(names).toContain("Knowledge.resolve")
    expect(
      names.some((n) => /persist/i.test(n)),
      names.join(", ")
    ).toBe(true)
    const insert = inTrace.find(
      (s) => s.name === "sql.execute" && /INSERT INTO scan_events/i.test(String(s.attributes["db.query.text"] ?? ""))
    )
    expect(insert, names.join(", ")).toBeDefined()
    for (const s of ["gateway", "orchestrator"]) expect(services).toContain(s)
  })
})
