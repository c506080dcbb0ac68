import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import type { Intent, Role } from "../../shared/domain/Scan.js"
import type { Relation } from "./Api.js"
import { Brain } from "./Brain.js"
import { IntentRules, resolveIntent } from "./Rules.js"

const who = (role: Role, relation: Relation = "none") => ({ role, relation })

describe("intent rules", () => {
  it("defaults by role and relation", () => {
    expect(resolveIntent(who("public"), undefined)).toEqual({ ok: true, intent: "public_view" })
    expect(resolveIntent(who("owner", "owner"), undefined)).toEqual({ ok: true, intent: "owner_view" })
    expect(resolveIntent(who("owner"), undefined)).toEqual({ ok: true, intent: "public_view" })
    expect(resolveIntent(who("brand", "own_brand"), undefined)).toEqual({ ok: true, intent: "brand_inspection" })
    expect(resolveIntent(who("brand"), undefined)).toEqual({ ok: true, intent: "public_view" })
    expect(resolveIntent(who("auditor"), undefined)).toEqual({ ok: true, intent: "audit" })
    expect(resolveIntent(who("admin"), undefined)).toEqual({ ok: true, intent: "audit" })
  })

  const table: ReadonlyArray<readonly [Intent, Role, Relation, boolean]> = [
    ["public_view", "public", "none", true],
    ["authenticity_check", "public", "none", true],
    ["care_instructions", "public", "none", true],
    ["owner_view", "owner", "owner", true],
    ["owner_view", "owner", "none", false],
    ["owner_view", "admin", "none", false],
    ["ownership_transfer", "owner", "owner", true],
    ["ownership_transfer", "public", "none", false],
    ["brand_inspection", "brand", "own_brand", true],
    ["brand_inspection", "brand", "none", false],
    ["brand_inspection", "admin", "none", true],
    ["audit", "auditor", "none", true],
    ["audit", "admin", "none", true],
    ["audit", "brand", "own_brand", false],
    ["audit", "public", "none", false]
  ]
  it.each(table)("hint %s for %s (%s) → allowed %s", (intent, role, relation, allowed) => {
    expect(resolveIntent(who(role, relation), intent).ok).toBe(allowed)
  })

  it("refuses (never downgrades) and names the intent and what it requires", async () => {
    const r = await Effect.runPromise(
      Effect.either(
        Effect.flatMap(Brain, (b) => b.resolveIntent({ role: "public", relation: "none", hint: "audit" })).pipe(
          Effect.provide(Brain.Default)
        )
      )
    )
    expect(Either.isLeft(r) && r.left.message).toBe(
      "intent audit is not allowed for role public: it requires role auditor or admin"
    )
  })

  it("has exactly one rule per intent", () => {
    expect(new Set(IntentRules.map((r) => r.intent)).size).toBe(7)
  })
})
