import { captureWarnings } from "../../shared/testing/TestLogs.js"
import { deleteRedisPrefix } from "../../shared/testing/TestRedis.js"
import { randomUUID } from "node:crypto"
import { Effect, Layer, ManagedRuntime } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Nats, natsPayload } from "../../shared/layers/Nats.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../../shared/testing/TestDatabase.js"
import { Metrics, MetricsLive } from "../../shared/telemetry/Metrics.js"
import { EventSubjects, testEventSubjects } from "../../shared/events/ScanEventSubjects.js"
import { deleteStreams, infraLayer, seedGarments, waitFor } from "../orchestrator/testing/TestStack.js"
import { ScanConsumerLive } from "./Consumer.js"
import { DetectorSettings } from "./Detector.js"

/** The durable consumer on real NATS/Redis/Postgres: crafted scan sequences escalate, normal ones do not. */
let db: TestDatabase
let client: pg.Client
let garments: ReadonlyArray<string>
const id = uniqueId("agentic")
const names = {
  databaseUrl: "",
  queuePrefix: `bmq_${id}`,
  keyPrefix: `${id}:`,
  streamPrefix: `T_${id.toUpperCase()}`
}
/** the consumer's warnings, as its logger wrote them */
const { warnings, layer: warningsLayer } = captureWarnings()
const build = (databaseUrl: string) =>
  ManagedRuntime.make(
    ScanConsumerLive.pipe(
      Layer.provide(warningsLayer),
      Layer.provideMerge(
        Layer.mergeAll(
          Layer.succeed(DetectorSettings, {
            cloneWindowSeconds: 600,
            failedAuthThreshold: 3,
            failedAuthWindowSeconds: 300
          }),
          MetricsLive("agentic"),
          Layer.succeed(EventSubjects, subjects)
        )
      ),
      Layer.provideMerge(infraLayer({ ...names, databaseUrl }, "agentic-test")),
      Layer.provideMerge(Layer.succeed(AppConfig, testConfig({ DATABASE_URL: databaseUrl })))
    )
  )
let rt: ReturnType<typeof build>
const subjects = testEventSubjects(names.streamPrefix)

const t0 = Date.parse("2026-11-20T10:00:00Z")
const scan = (garmentId: string, regionCode: string, minutes: number, over: Record<string, unknown> = {}) => ({
  scanId: randomUUID(),
  garmentId,
  regionCode,
  intent: "public_view",
  role: "public",
  outcome: "allowed",
  scannedAt: new Date(t0 + minutes * 60_000).toISOString(),
  ...over
})
const publish = (m: ReturnType<typeof scan>) =>
  rt.runPromise(Effect.flatMap(Nats, (n) => n.publish(subjects.scanRecorded, natsPayload(m))))
const escalations = async (garmentId: string) =>
  (await client.query("SELECT kind, severity, dedupe_key FROM escalations WHERE garment_id = $1", [garmentId])).rows
const counted = async (kind: string) => {
  const metrics = await rt.runPromise(Metrics)
  const v = (await metrics.m.policyEscalationsTotal.get()).values.find((x) => x.labels.kind === kind)
  return v?.value ?? 0
}

beforeAll(async () => {
  db = await createTestDatabase("agentic")
  garments = (await seedGarments(db.url, 5)).garments
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
  rt = build(db.url)
  await rt.runPromise(Effect.void)
  // the consumer starts in the background: wait until the stream exists
  await waitFor(
    "scans stream",
    async () =>
      (
        await rt.runPromise(
          Effect.either(Effect.flatMap(Nats, (n) => n.publish(`${subjects.scanRecorded}.ping`, "{}")))
        )
      )._tag === "Right"
  )
})

afterAll(async () => {
  await rt?.dispose()
  await client?.end()
  await deleteRedisPrefix(names.keyPrefix)
  await deleteStreams(names.streamPrefix)
  await db?.drop()
})

describe("agentic pattern detection", () => {
  it("escalates a serial scanned from two countries within the window, once, even when redelivered", async () => {
    const g = garments[0]!
    const paris = scan(g, "FR", 0)
    const ny = scan(g, "US-NY", 4)
    await publish(paris)
    await publish(ny)
    await waitFor("clone escalation", async () => (await escalations(g)).length > 0)
    // the same event delivered again (a replay): no second row
    await publish(ny)
    await publish(scan(g, "US-NY", 5))
    await new Promise((r) => setTimeout(r, 500))
    const rows = await escalations(g)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ kind: "clone_suspected", severity: "critical" })
    expect(await counted("clone_suspected")).toBe(1)
  })

  it("escalates a burst of failed authenticity checks", async () => {
    const g = garments[1]!
    for (const minute of [0, 1, 2])
      await publish(scan(g, "FR", minute, { intent: "authenticity_check", outcome: "denied" }))
    await waitFor("auth burst escalation", async () => (await escalations(g)).length > 0)
    expect(await escalations(g)).toMatchObject([{ kind: "auth_failure_burst", severity: "warning" }])
  })

  it("stays quiet on normal traffic: one country, far-apart countries, few failures", async () => {
    const [a, b] = [garments[2]!, garments[3]!]
    for (const minute of [0, 1, 2, 3]) await publish(scan(a, "FR", minute))
    // another country, but long after the window
    await publish(scan(b, "IT", 0))
    await publish(scan(b, "JP", 60 * 24))
    await publish(scan(b, "JP", 60 * 24 + 1, { intent: "authenticity_check", outcome: "denied" }))
    await publish(scan(b, "JP", 60 * 24 + 2, { intent: "authenticity_check", outcome: "denied" }))
    // a marker event after them: once its escalation shows, every earlier event was handled
    const marker = garments[0]!
    await publish(scan(marker, "FR", 60 * 48))
    await publish(scan(marker, "DE", 60 * 48 + 1))
    await waitFor("marker escalation", async () => (await escalations(marker)).length === 2)
    expect(await escalations(a)).toEqual([])
    expect(await escalations(b)).toEqual([])
  })

  it("logs a malformed fact with what is wrong, acknowledges it and goes on", async () => {
    const g = garments[4]!
    const { garmentId: _, ...withoutGarment } = scan(g, "FR", 0)
    await rt.runPromise(Effect.flatMap(Nats, (n) => n.publish(subjects.scanRecorded, natsPayload(withoutGarment))))
    await rt.runPromise(Effect.flatMap(Nats, (n) => n.publish(subjects.scanRecorded, "not json")))
    // the events after them are handled
    await publish(scan(g, "FR", 0))
    await publish(scan(g, "US-NY", 3))
    await waitFor("clone escalation after the malformed facts", async () => (await escalations(g)).length > 0)
    const malformed = warnings.filter((w) => w.startsWith(`agentic: ignoring malformed ${subjects.scanRecorded} #`))
    expect(malformed.map((w) => w.replace(/#\d+/, "#n"))).toEqual([
      `agentic: ignoring malformed ${subjects.scanRecorded} #n: garmentId: is missing`,
      `agentic: ignoring malformed ${subjects.scanRecorded} #n: not JSON`
    ])
  })
})
