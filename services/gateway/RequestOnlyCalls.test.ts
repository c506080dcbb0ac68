import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { Decision } from "../../shared/domain/Scan.js"
import type { BrainCalls } from "../brain/Client.js"
import type { PolicyCalls } from "../policy/Client.js"
import { requestOnlyCalls } from "./RequestOnlyCalls.js"

const garment = "9b2f3c4d-0000-4000-8000-000000000001"
const other = "9b2f3c4d-0000-4000-8000-000000000002"
const owner = "9b2f3c4d-0000-4000-8000-0000000000aa"

const counting = (policyVersion: string) => {
  const seen = { brain: 0, policy: 0 }
  const brain: BrainCalls = {
    resolveIntent: (req) =>
      Effect.sync(() => {
        seen.brain++
        return req.role === "public" ? "care_instructions" : "authenticity_check"
      })
  }
  const policy: PolicyCalls = {
    decide: (req) =>
      Effect.sync((): Decision => {
        seen.policy++
        return { regime: "gdpr", policyVersion, allowed: [], denied: [{ group: "owner_identity", reason: req.role }] }
      })
  }
  return { seen, calls: { brain, policy } }
}

const ask = (garmentId: string, ownerUserId: string | null, scannerRegion: "FR" | "DE" = "FR") => ({
  garmentId,
  ownerUserId,
  role: "public" as const,
  relation: "none" as const,
  intent: "care_instructions" as const,
  scannerRegion,
  claimedRegion: null
})

describe("request-only calls", () => {
  it("ask brain once per role, relation and hint", async () => {
    const { seen, calls } = counting("v1")
    const { brain } = requestOnlyCalls(calls, "v1", 60_000)
    const a = await Effect.runPromise(brain.resolveIntent({ role: "public", relation: "none" }))
    const b = await Effect.runPromise(brain.resolveIntent({ role: "public", relation: "none" }))
    const c = await Effect.runPromise(brain.resolveIntent({ role: "brand", relation: "own_brand" }))
    await Effect.runPromise(brain.resolveIntent({ role: "public", relation: "none", hint: "care_instructions" }))
    expect([a, b, c]).toEqual(["care_instructions", "care_instructions", "authenticity_check"])
    expect(seen.brain).toBe(3)
  })

  it("keep policy's decision about a garment nobody owns for every such garment, per regions", async () => {
    const { seen, calls } = counting("v1")
    const { policy } = requestOnlyCalls(calls, "v1", 60_000)
    const first = await Effect.runPromise(policy.decide(ask(garment, null)))
    expect(await Effect.runPromise(policy.decide(ask(other, null)))).toEqual(first)
    expect(seen.policy).toBe(1)
    await Effect.runPromise(policy.decide(ask(other, null, "DE")))
    expect(seen.policy).toBe(2)
  })

  it("ask policy every time about an owned garment (consents, jurisdiction)", async () => {
    const { seen, calls } = counting("v1")
    const { policy } = requestOnlyCalls(calls, "v1", 60_000)
    await Effect.runPromise(policy.decide(ask(garment, owner)))
    await Effect.runPromise(policy.decide(ask(garment, owner)))
    expect(seen.policy).toBe(2)
  })

  it("never keep a decision of another rules version", async () => {
    const { seen, calls } = counting("v2")
    const { policy } = requestOnlyCalls(calls, "v1", 60_000)
    const d = await Effect.runPromise(policy.decide(ask(garment, null)))
    await Effect.runPromise(policy.decide(ask(garment, null)))
    expect(d.policyVersion).toBe("v2")
    expect(seen.policy).toBe(2)
  })

  it("ask again once an answer is older than the TTL", async () => {
    const { seen, calls } = counting("v1")
    const { brain } = requestOnlyCalls(calls, "v1", 1)
    await Effect.runPromise(brain.resolveIntent({ role: "public", relation: "none" }))
    await new Promise((r) => setTimeout(r, 5))
    await Effect.runPromise(brain.resolveIntent({ role: "public", relation: "none" }))
    expect(seen.brain).toBe(2)
  })
})
