import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Intent, Role } from "../../shared/domain/Scan.js"
import { consentStateOf, decide, type DecisionInput, FacetGroups, IntentGroups, regimeOf } from "./Rules.js"

const base: DecisionInput = {
  role: "public",
  relation: "none",
  intent: "public_view",
  regime: "gdpr",
  hasOwner: true,
  consent: { ownership_history: "none", owner_identity: "none" }
}
const allowed = (i: DecisionInput) => decide(i).allowed.map((a) => a.group)

describe("policy rules", () => {
  it("maps regions to regimes", () => {
    expect(regimeOf("FR")).toBe("gdpr")
    expect(regimeOf("DE-BY")).toBe("gdpr")
    expect(regimeOf("NO")).toBe("gdpr")
    expect(regimeOf("GB")).toBe("gdpr")
    expect(regimeOf("US-CA")).toBe("ccpa")
    expect(regimeOf("US-NY")).toBe("default")
    expect(regimeOf("ZZ")).toBe("default")
  })

  it("GDPR public: personal groups only with consent, identity never", () => {
    expect(allowed(base)).not.toContain("ownership_history")
    const all = { ...base, consent: { ownership_history: "granted", owner_identity: "granted" } } as const
    expect(allowed(all)).toContain("ownership_history")
    expect(allowed(all)).not.toContain("owner_identity")
  })

  it("CCPA/default: history until opt-out, identity only with consent", () => {
    const ccpa = { ...base, regime: "ccpa" } as const
    expect(allowed(ccpa)).toContain("ownership_history")
    expect(allowed(ccpa)).not.toContain("owner_identity")
    expect(allowed({ ...ccpa, consent: { ownership_history: "withdrawn", owner_identity: "none" } })).not.toContain(
      "ownership_history"
    )
    expect(allowed({ ...ccpa, consent: { ownership_history: "none", owner_identity: "granted" } })).toContain(
      "owner_identity"
    )
  })

  it("the owner, auditors and admins see everything their intent needs", () => {
    expect(decide({ ...base, role: "owner", relation: "owner", intent: "owner_view" }).denied).toEqual([])
    expect(decide({ ...base, role: "auditor", intent: "audit" }).denied).toEqual([])
  })

  it("every group is either allowed or denied, with a reason, for every input (property)", () => {
    const consent = fc.constantFrom("granted", "withdrawn", "none" as const)
    fc.assert(
      fc.property(
        fc.constantFrom(...Role.literals),
        fc.constantFrom("owner", "own_brand", "none" as const),
        fc.constantFrom(...Intent.literals),
        fc.constantFrom("gdpr", "ccpa", "default" as const),
        fc.boolean(),
        consent,
        consent,
        (role, relation, intent, regime, hasOwner, h, o) => {
          const d = decide({
            role,
            relation,
            intent,
            regime,
            hasOwner,
            consent: { ownership_history: h, owner_identity: o }
          })
          const groups = [...d.allowed, ...d.denied].map((e) => e.group).sort()
          expect(groups).toEqual([...FacetGroups].sort())
          for (const e of [...d.allowed, ...d.denied]) expect(e.reason.length).toBeGreaterThan(5)
          for (const a of d.allowed) expect(IntentGroups[intent]).toContain(a.group)
          // an EU scanner who is not the owner, an auditor, an admin or the garment's brand never sees identity
          if (regime === "gdpr" && relation === "none" && (role === "public" || role === "owner" || role === "brand")) {
            expect(d.allowed.map((a) => a.group)).not.toContain("owner_identity")
          }
        }
      ),
      { numRuns: 500 }
    )
  })

  it("the latest consent row wins", () => {
    expect(
      consentStateOf([
        { id: "1", purpose: "ownership_history", granted: true },
        { id: "10", purpose: "ownership_history", granted: false },
        { id: "2", purpose: "owner_identity", granted: true }
      ])
    ).toEqual({ ownership_history: "withdrawn", owner_identity: "granted" })
  })
})
