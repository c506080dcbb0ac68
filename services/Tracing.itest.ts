import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ServiceNames } from "../shared/ServiceCatalog.js"
import { makeTracingLayer } from "../shared/telemetry/Tracing.js"
import { demoTag, startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"

/** One scan is one trace: gateway → policy → knowledge → the persist job → the SQL insert. */
describe("distributed tracing", () => {
  let platform: TestPlatform
  let base: string
  const exporter = new InMemorySpanExporter()

  beforeAll(async () => {
    const processor = new SimpleSpanProcessor(exporter)
    platform = await startTestPlatform({
      label: "trace",
      services: ServiceNames,
      demoData: true,
      start: {
        tracing: (service) =>
          makeTracingLayer({
            serviceName: service,
            serviceVersion: "test",
            environment: "test",
            spanProcessor: processor
          })
      }
    })
    base = platform.url("gateway")
  })
  afterAll(async () => {
    await platform.close()
  })

  it("holds the gateway, policy, knowledge, job and SQL-insert spans in one trace", async () => {
    const res = await fetch(`${base}/v1/scans`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: demoTag(1), context: { region: "DE" } })
    })
    expect(res.status).toBe(200)
    const { scanId } = (await res.json()) as { scanId: string }
    // wait until the orchestrator has persisted the scan
    const client = new pg.Client({ connectionString: platform.db.url })
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
    expect(names, names.join(", ")).toContain("job persist_scan_event")
    expect(names).toContain("ScanBatcher.persistBatch")
    const insert = inTrace.find(
      (s) => s.name === "sql.execute" && /INSERT INTO scan_events/i.test(String(s.attributes["db.query.text"] ?? ""))
    )
    expect(insert, names.join(", ")).toBeDefined()
    for (const s of ["gateway", "orchestrator"]) expect(services).toContain(s)
  })
})
