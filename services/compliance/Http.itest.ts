import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromHex } from "../../shared/audit/Bytes.js"
import { verifyConsistencySync, verifyInclusionSync } from "../../shared/audit/Merkle.js"
import type { Principal } from "../../shared/auth/Tokens.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { fetchAs, issueTestToken } from "../../shared/testing/TestTokens.js"
import { seedAuditLog } from "./testing/AuditSeed.js"

const hex = (s: string): Uint8Array => fromHex(s) ?? new Uint8Array()

describe("compliance audit API", () => {
  let platform: TestPlatform
  let base: string
  const token = (role: Principal["role"]) => issueTestToken(platform.config, role)
  // the service port answers its declared callers only: these requests come as the console's would
  const asConsole = (url: string, init?: RequestInit) => fetchAs(platform.config, "console", "compliance")(url, init)

  beforeAll(async () => {
    platform = await startTestPlatform({ label: "compliance", services: ["compliance"] })
    base = platform.url("compliance")
    await seedAuditLog(platform.config, [5, 12], [1, 2])
  })
  afterAll(async () => {
    await platform.close()
  })

  it("serves the checkpoint, entries with inclusion proofs and consistency proofs that verify", async () => {
    expect((await asConsole(`${base}/v1/audit/checkpoint`)).status).toBe(401)
    expect(
      (await asConsole(`${base}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${await token("owner")}` } }))
        .status
    ).toBe(403)
    const auth = { headers: { authorization: `Bearer ${await token("auditor")}` } }
    const cp = (await (await asConsole(`${base}/v1/audit/checkpoint`, auth)).json()) as {
      treeSize: number
      rootHash: string
      note: string
    }
    expect(cp.treeSize).toBe(12)
    expect(cp.note.split("\n")[1]).toBe("12")
    const entry = (await (await asConsole(`${base}/v1/audit/entries/3`, auth)).json()) as {
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
    const cons = (await (await asConsole(`${base}/v1/audit/consistency?from=5&to=12`, auth)).json()) as {
      fromRoot: string
      toRoot: string
      proof: Array<string>
    }
    expect(
      Either.isRight(verifyConsistencySync(5, 12, hex(cons.fromRoot), hex(cons.toRoot), cons.proof.map(hex)))
    ).toBe(true)
    expect(cons.toRoot).toBe(cp.rootHash)
    const beyond = await asConsole(`${base}/v1/audit/entries/99`, auth)
    expect([400, 404]).toContain(beyond.status)
    expect(((await beyond.json()) as { error: string }).error).toMatch(/^Audit/)
    expect((await asConsole(`${base}/v1/audit/consistency?from=x&to=3`, auth)).status).toBe(400)
  })
})
