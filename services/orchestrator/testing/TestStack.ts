/**
 * Integration-test wiring for the orchestrator: real Postgres, Redis (own queue prefix and key prefix)
 * and NATS (own stream prefix), and recording stub ports for audit/chain (so queue behaviour is tested
 * apart from those services) whose audit appends a test can fail or slow down.
 */
import { randomUUID } from "node:crypto"
import { Effect, Layer, Option } from "effect"
import pg from "pg"
import { AppConfig, type AppConfigShape } from "../../../shared/config/AppConfig.js"
import { withCheckDigit } from "../../../shared/domain/Gtin.js"
export { deleteStreams } from "../../../shared/testing/TestStreams.js"
import { makeDatabaseLayer } from "../../../shared/layers/Database.js"
import { makeNatsLayer } from "../../../shared/layers/Nats.js"
import { makeQueuesLayer } from "../../../shared/layers/Queues.js"
import { makeRedisLayer } from "../../../shared/layers/Redis.js"
import { MetricsLive } from "../../../shared/telemetry/Metrics.js"
import { PortFailed } from "../Errors.js"
import { EventSubjects, testEventSubjects } from "../../../shared/events/ScanEventSubjects.js"
import { orchestratorBody, type OrchestratorOptions } from "../Orchestrator.js"
import { AuditPort, AuditPortLive, ChainPort } from "../Ports.js"
import { OrchestratorSettings, type OrchestratorSettingsShape } from "../Settings.js"

export interface StackNames {
  readonly databaseUrl: string
  readonly queuePrefix: string
  readonly keyPrefix: string
  readonly streamPrefix: string
}

export const infraLayer = (n: StackNames, name = "orchestrator-test") =>
  Layer.mergeAll(
    makeDatabaseLayer({
      url: n.databaseUrl,
      poolMax: 5,
      idleTimeoutMs: 5000,
      connectTimeoutMs: 5000,
      ssl: "disable",
      applicationName: name
    }),
    makeRedisLayer({ url: "redis://127.0.0.1:6379", keyPrefix: n.keyPrefix, connectionName: name }),
    makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: n.streamPrefix, name }),
    makeQueuesLayer({ url: "redis://127.0.0.1:6379", prefix: n.queuePrefix, name })
  )

/** What the stubs saw, and knobs to make them fail. */
export interface StubState {
  audits: Array<{ key: string; kind: string; timeMs: number }>
  verifies: number
  checkpoints: number
  anchors: Array<{ treeSize: number }>
  syncs: number
  /** fail this many audit appends before succeeding */
  failAudit: number
  /** fail every audit append while true */
  auditBroken: boolean
  /** each audit append takes this long */
  auditDelayMs: number
}

/** the stubs' leaf index per key (a scan batch appends a thousand entries at once: no scan of every leaf per entry) */
const stubKeys = new WeakMap<StubState, Map<string, number>>()
const keysOf = (s: StubState) => {
  let m = stubKeys.get(s)
  if (m === undefined) {
    m = new Map(s.audits.map((a, i) => [a.key, i]))
    stubKeys.set(s, m)
  }
  return m
}

export const newStubState = (): StubState => ({
  audits: [],
  verifies: 0,
  checkpoints: 0,
  anchors: [],
  syncs: 0,
  failAudit: 0,
  auditBroken: false,
  auditDelayMs: 0
})

const stubAudit = (s: StubState) =>
  Layer.succeed(AuditPort, {
    // like the sequencer: one leaf per key
    appendOnce: (entries) =>
      Effect.gen(function* () {
        if (s.auditDelayMs > 0) yield* Effect.sleep(s.auditDelayMs)
        if (s.auditBroken || s.failAudit > 0) {
          s.failAudit--
          return yield* new PortFailed({ port: "audit", operation: "append", message: "injected failure" })
        }
        const keys = keysOf(s)
        return entries.map(({ key, entry }) => {
          const had = keys.get(key)
          if (had !== undefined) return { index: had, fresh: false }
          const index = s.audits.push({ key, kind: entry.kind, timeMs: entry.timeMs }) - 1
          keys.set(key, index)
          return { index, fresh: true }
        })
      }),
    verify: Effect.sync(() => {
      s.verifies++
      return { ok: true, treeSize: s.audits.length, problems: 0 }
    }),
    checkpoint: Effect.sync(() => {
      s.checkpoints++
      return Option.none()
    })
  })

export const stubPorts = (s: StubState, o: { readonly liveAudit?: boolean } = {}) =>
  Layer.mergeAll(
    o.liveAudit === true ? AuditPortLive : stubAudit(s),
    Layer.succeed(ChainPort, {
      anchorCheckpoint: (p) =>
        Effect.sync(() => {
          s.anchors.push({ treeSize: p.treeSize })
          return { id: randomUUID(), status: "submitted", txId: "00" }
        }),
      syncConfirmations: Effect.sync(() => {
        s.syncs++
        return { checked: 0, transitions: 0 }
      })
    })
  )

/** The orchestrator on the test infrastructure, with stub ports and the given settings. */
export const orchestratorStack = (
  n: StackNames,
  config: AppConfigShape,
  settings: OrchestratorSettingsShape,
  stubs: StubState,
  options: OrchestratorOptions & { readonly liveAudit?: boolean } = {}
) => {
  const base = Layer.mergeAll(
    AppConfig.layerWith(config),
    OrchestratorSettings.layerWith(settings),
    MetricsLive("orchestrator"),
    Layer.succeed(EventSubjects, testEventSubjects(n.streamPrefix))
  )
  const infra = infraLayer(n).pipe(Layer.provideMerge(base))
  return orchestratorBody(options).pipe(
    Layer.provideMerge(stubPorts(stubs, { liveAudit: options.liveAudit === true })),
    Layer.provideMerge(infra)
  )
}

/** A brand, a brand user, and `count` garments; returns their ids. */
export const seedGarments = async (databaseUrl: string, count: number) => {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    const brand = await c.query(
      `INSERT INTO brands (slug, name) VALUES ('orch-${Date.now().toString(36)}', 'Orch') RETURNING id`
    )
    const brandId: string = brand.rows[0].id
    const user = await c.query(
      `INSERT INTO users (email_hash, role, brand_id) VALUES (digest($1, 'sha256'), 'brand', $2) RETURNING id`,
      [randomUUID(), brandId]
    )
    const owner = await c.query(
      `INSERT INTO users (email_hash, role) VALUES (digest($1, 'sha256'), 'owner') RETURNING id`,
      [randomUUID()]
    )
    const garments: Array<string> = []
    for (let i = 0; i < count; i++) {
      const gtin = `0${withCheckDigit(`0614141${String(20000 + i).padStart(5, "0")}`)}`
      const g = await c.query(
        `INSERT INTO garments (brand_id, gtin, serial, name, owner_user_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [brandId, gtin, `S${i}`, `Garment ${i}`, owner.rows[0].id]
      )
      garments.push(g.rows[0].id)
    }
    return { brandId, brandUserId: user.rows[0].id as string, ownerId: owner.rows[0].id as string, garments }
  } finally {
    await c.end()
  }
}

/** A valid encoded ScanEvent. */
export const scanEvent = (garmentId: string, over: Record<string, unknown> = {}) => ({
  scanId: randomUUID(),
  garmentId,
  scannerUserId: null,
  deviceId: null,
  role: "public",
  intent: "public_view",
  regionCode: "FR",
  decision: {
    regime: "gdpr",
    policyVersion: "2026-01",
    allowed: [{ group: "materials", reason: "public" }],
    denied: []
  },
  scannedAt: new Date().toISOString(),
  ...over
})

export const waitFor = async (
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  everyMs = 100
) => {
  const t0 = Date.now()
  for (;;) {
    if (await check()) return
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
