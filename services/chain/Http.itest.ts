import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Principal } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { InfraLive } from "../../shared/layers/Infra.js"
import { MetricsLive } from "../../shared/telemetry/Metrics.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { fetchAs, issueTestToken } from "../../shared/testing/TestTokens.js"
import { Anchoring } from "./Anchoring.js"
import { AnchoringLive } from "./Live.js"

describe("chain HTTP API", () => {
  let platform: TestPlatform
  let base: string
  const token = (role: Principal["role"]) => issueTestToken(platform.config, role)
  // the service port answers its declared callers only: these requests come as the console's would
  const asConsole = (url: string, init?: RequestInit) => fetchAs(platform.config, "console", "chain")(url, init)

  beforeAll(async () => {
    platform = await startTestPlatform({ label: "chainhttp", services: ["chain"] })
    base = platform.url("chain")
    const config = platform.config
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
    await platform.close()
  })

  it("lists anchors for auditors, refuses others with the JSON error shape", async () => {
    const anon = await asConsole(`${base}/v1/chain/anchors`)
    expect(anon.status).toBe(401)
    expect(((await anon.json()) as { error: string }).error).toBe("Unauthorized")
    const owner = await asConsole(`${base}/v1/chain/anchors`, {
      headers: { authorization: `Bearer ${await token("owner")}` }
    })
    expect(owner.status).toBe(403)
    const auditorToken = await token("auditor")
    const list = await asConsole(`${base}/v1/chain/anchors`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(list.status).toBe(200)
    const body = (await list.json()) as { anchors: Array<{ treeSize: number; txId: string; rootHex: string }> }
    expect(body.anchors.map((a) => a.treeSize)).toEqual([7])
    expect(body.anchors[0]?.txId).toMatch(/^[0-9a-f]{64}$/)
    const one = await asConsole(`${base}/v1/chain/anchors/7`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(((await one.json()) as { rootHex: string }).rootHex).toBe("ab".repeat(32))
    const missing = await asConsole(`${base}/v1/chain/anchors/8`, {
      headers: { authorization: `Bearer ${auditorToken}` }
    })
    expect(missing.status).toBe(404)
    const bad = await asConsole(`${base}/v1/chain/anchors/x`, { headers: { authorization: `Bearer ${auditorToken}` } })
    expect(bad.status).toBe(400)
    const metrics = await (await fetch(platform.metricsUrl("chain"))).text()
    expect(metrics).toContain('brandme_blockchain_transactions_total{provider="local",status="failed"} 0')
  })
})
