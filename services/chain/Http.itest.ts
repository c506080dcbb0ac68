import { randomUUID } from "node:crypto"
import { Effect, Exit, Layer, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Principal, SESSION_TTL_SECONDS, sessionKey, Tokens, TokensLive } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../../shared/testing/TestDatabase.js"
import { startServices } from "../Platform.js"
import { Anchoring } from "./Anchoring.js"
import { AnchoringLive } from "./Live.js"
import { MetricsLive } from "../../shared/telemetry/Metrics.js"
import { InfraLive } from "../../shared/layers/Infra.js"

describe("chain HTTP API", () => {
  let db: TestDatabase
  let scope: Scope.CloseableScope
  let base: string
  let config: ReturnType<typeof testConfig>
  const token = async (role: Principal["role"]) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const tokens = yield* Tokens
        const redis = yield* Redis
        const p: Principal = { userId: randomUUID(), role, brandId: null, sessionId: randomUUID() }
        yield* redis.set(sessionKey(p.sessionId), p.userId, SESSION_TTL_SECONDS)
        return yield* tokens.issue(p, 600)
      }).pipe(
        Effect.provide(Layer.mergeAll(TokensLive, InfraLive("chain-test"))),
        Effect.provide(Layer.succeed(AppConfig, config)),
        Effect.scoped
      )
    )

  beforeAll(async () => {
    db = await createTestDatabase("chainhttp")
    const offset = 20000 + Math.floor(Math.random() * 20000)
    config = testConfig({
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: `${uniqueId("chainhttp")}:`,
      QUEUE_PREFIX: uniqueId("cq"),
      PORT_OFFSET: String(offset),
      HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "error"
    })
    scope = Effect.runSync(Scope.make())
    await Effect.runPromise(
      startServices(["chain"], "chain-test").pipe(Effect.provide(Layer.succeed(AppConfig, config)), Scope.extend(scope))
    )
    base = `http://127.0.0.1:${Services.chain.port + offset}`
    // anchor one checkpoint through the same layer the service runs
    await Effect.runPromise(
      Effect.flatMap(Anchoring, (a) =>
        a.anchorCheckpoint({ origin: config.audit.origin, treeSize: 7, rootHex: "ab".repeat(32) })
      ).pipe(
        Effect.provide(AnchoringLive),
        Effect.provide(MetricsLive("chain")),
        Effect.provide(InfraLive("chain-test")),
        Effect.provide(Layer.succeed(AppConfig, config)),
        Effect.scoped
      )
    )
  })
  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await db.drop()
  })

  it("lists anchors for auditors, refuses others with the JSON error shape", async () => {
    const anon = await fetch(`${base}/v1/chain/anchors`)
    expect(anon.status).toBe(401)
    expect(((await anon.json()) as { error: string }).error).toBe("Unauthorized")
    const owner = await fetch(`${base}/v1/chain/anchors`, {
      headers: { authorization: `Bearer ${await token("owner")}` }
    })
    expect(owner.status).toBe(403)
    const auditorToken = await token("auditor")
    const list = await fetch(`${base}/v1/chain/anchors`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(list.status).toBe(200)
    const body = (await list.json()) as { anchors: Array<{ treeSize: number; txId: string; rootHex: string }> }
    expect(body.anchors.map((a) => a.treeSize)).toEqual([7])
    expect(body.anchors[0]?.txId).toMatch(/^[0-9a-f]{64}$/)
    const one = await fetch(`${base}/v1/chain/anchors/7`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(((await one.json()) as { rootHex: string }).rootHex).toBe("ab".repeat(32))
    const missing = await fetch(`${base}/v1/chain/anchors/8`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(missing.status).toBe(404)
    const bad = await fetch(`${base}/v1/chain/anchors/x`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(bad.status).toBe(400)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toContain('brandme_blockchain_transactions_total{provider="local",status="failed"} 0')
  })
})
