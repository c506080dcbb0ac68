import { randomUUID } from "node:crypto"
import { Effect, Either, Exit, Layer, Option, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromHex } from "../../shared/audit/Bytes.js"
import { verifyConsistencySync, verifyInclusionSync } from "../../shared/audit/Merkle.js"
import { type Principal, SESSION_TTL_SECONDS, sessionKey, Tokens, TokensLive } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { InfraLive } from "../../shared/layers/Infra.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "../../shared/testing/TestDatabase.js"
import { startServices } from "../Platform.js"
import { AuditLog } from "./AuditLog.js"
import { signCheckpointNow, signerFromSecret } from "./Checkpointer.js"
import { AuditLogLive } from "./Live.js"

const hex = (s: string): Uint8Array => fromHex(s) ?? new Uint8Array()

describe("compliance audit API", () => {
  let db: TestDatabase
  let scope: Scope.CloseableScope
  let base: string
  let config: ReturnType<typeof testConfig>
  const run = <A, E>(
    effect: Effect.Effect<A, E, AuditLog | Tokens | Redis | AppConfig | import("@effect/sql").SqlClient.SqlClient>
  ) =>
    Effect.runPromise(
      effect.pipe(
        Effect.provide(Layer.mergeAll(AuditLogLive, TokensLive).pipe(Layer.provideMerge(InfraLive("compliance-test")))),
        Effect.provide(Layer.succeed(AppConfig, config)),
        Effect.scoped
      )
    )
  const token = (role: Principal["role"]) =>
    run(
      Effect.gen(function* () {
        const p: Principal = { userId: randomUUID(), role, brandId: null, sessionId: randomUUID() }
        yield* (yield* Redis).set(sessionKey(p.sessionId), p.userId, SESSION_TTL_SECONDS)
        return yield* (yield* Tokens).issue(p, 600)
      })
    )

  beforeAll(async () => {
    db = await createTestDatabase("compliance")
    const offset = 20000 + Math.floor(Math.random() * 20000)
    config = testConfig({
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: `${uniqueId("comp")}:`,
      QUEUE_PREFIX: uniqueId("coq"),
      PORT_OFFSET: String(offset),
      HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: "error"
    })
    scope = Effect.runSync(Scope.make())
    await Effect.runPromise(
      startServices(["compliance"], "compliance-test").pipe(
        Effect.provide(Layer.succeed(AppConfig, config)),
        Scope.extend(scope)
      )
    )
    base = `http://127.0.0.1:${Services.compliance.port + offset}`
    const signer = signerFromSecret(config.audit.origin, "test-audit-key")
    await run(
      Effect.gen(function* () {
        const log = yield* AuditLog
        for (let i = 0; i < 5; i++) yield* log.appendLeaf("scan.recorded", new Uint8Array([i, 1, 2]), new Date())
        yield* signCheckpointNow(config.audit.origin, signer)
        for (let i = 5; i < 12; i++) yield* log.appendLeaf("scan.recorded", new Uint8Array([i, 1, 2]), new Date())
        const signed = yield* signCheckpointNow(config.audit.origin, signer)
        expect(Option.isSome(signed)).toBe(true)
      })
    )
  })
  afterAll(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await db.drop()
  })

  it("serves the checkpoint, entries with inclusion proofs and consistency proofs that verify", async () => {
    expect((await fetch(`${base}/v1/audit/checkpoint`)).status).toBe(401)
    expect(
      (await fetch(`${base}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${await token("owner")}` } }))
        .status
    ).toBe(403)
    const auth = { headers: { authorization: `Bearer ${await token("auditor")}` } }
    const cp = (await (await fetch(`${base}/v1/audit/checkpoint`, auth)).json()) as {
      treeSize: number
      rootHash: string
      note: string
    }
    expect(cp.treeSize).toBe(12)
    expect(cp.note.split("\n")[1]).toBe("12")
    const entry = (await (await fetch(`${base}/v1/audit/entries/3`, auth)).json()) as {
      leafHash: string
      treeSize: number
      rootHash: string
      inclusionProof: Array<string>
    }
    expect(entry.rootHash).toBe(cp.rootHash)
    expect(
      Either.isRight(
        verifyInclusionSync(3, entry.treeSize, hex(entry.leafHash), entry.inclusionProof.map(hex), hex(entry.rootHash))
      )
    ).toBe(true)
    const cons = (await (await fetch(`${base}/v1/audit/consistency?from=5&to=12`, auth)).json()) as {
      fromRoot: string
      toRoot: string
      proof: Array<string>
    }
    expect(
      Either.isRight(verifyConsistencySync(5, 12, hex(cons.fromRoot), hex(cons.toRoot), cons.proof.map(hex)))
    ).toBe(true)
    expect(cons.toRoot).toBe(cp.rootHash)
    const beyond = await fetch(`${base}/v1/audit/entries/99`, auth)
    expect([400, 404]).toContain(beyond.status)
    expect(((await beyond.json()) as { error: string }).error).toMatch(/^Audit/)
    expect((await fetch(`${base}/v1/audit/consistency?from=x&to=3`, auth)).status).toBe(400)
  })
})
