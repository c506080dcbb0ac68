import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Intent, Role } from "../../shared/domain/Scan.js"
import {
  Audiences,
  ConsentRuleKinds,
  consentRule,
  type ConsentState,
  DefaultPolicySettings,
  decide,
  type DecisionInput,
  type PolicySettings,
  PolicyRules,
  policyVersion,
  type Regime,
  regimeFor,
  regimeOf,
  UNKNOWN_REGION_REASON
} from "./Rules.js"

const regions = ["FR", "DE-BY", "IE", "NO", "GB", "US-CA", "US-NY", "US", "BR", "JP", "CN-BJ", "ZZ"] as const
const region = fc.option(fc.constantFrom(...regions), { nil: null })
const consent = fc.constantFrom<ConsentState>("granted", "withdrawn", "none")
const settings: fc.Arbitrary<PolicySettings> = fc.record({
  gdprEnabled: fc.boolean(),
  ccpaEnabled: fc.boolean(),
  unknownRegionRegime: fc.constantFrom<Regime>("gdpr", "ccpa", "default")
})
const allowedOf = (i: DecisionInput, s: PolicySettings) =>
  new Set(
    decide(i, s)
      .allowed.map((a) => a.group)
      .sort()
  )
const subset = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].every((x) => b.has(x))

describe("the regime of a decision", () => {
  it("the regimes are a total order of what they show: each consent rule is at most as loose as the looser regime's", () => {
    const rank = (k: (typeof ConsentRuleKinds)[number]) => ConsentRuleKinds.indexOf(k)
    for (let i = 1; i < PolicyRules.strictness.length; i++) {
      const looser = PolicyRules.strictness[i - 1]
      const stricter = PolicyRules.strictness[i]
      if (looser === undefined || stricter === undefined) throw new Error("strictness has a hole")
      for (const audience of Audiences) {
        for (const group of ["ownership_history", "owner_identity"] as const) {
          expect(rank(consentRule(stricter, audience, group))).toBeGreaterThanOrEqual(
            rank(consentRule(looser, audience, group))
          )
        }
      }
    }
  })

  it(
    "owner jurisdiction × scanner region × claimed region × consent × role × intent: never looser than any " +
      "applicable regime, and a claimed region never widens what is shown (property)",
    () => {
      fc.assert(
        fc.property(
          fc.record({
            scanner: region,
            claimed: region,
            jurisdiction: region,
            hasOwner: fc.boolean(),
            role: fc.constantFrom(...Role.literals),
            relation: fc.constantFrom("owner", "own_brand", "none" as const),
            intent: fc.constantFrom(...Intent.literals),
            history: consent,
            identity: consent,
            settings
          }),
          (x) => {
            const s = x.settings
            const inputs = {
              scannerRegion: x.scanner,
              claimedRegion: x.claimed,
              hasOwner: x.hasOwner,
              ownerJurisdiction: x.jurisdiction
            }
            const base = {
              role: x.role,
              relation: x.relation,
              intent: x.intent,
              hasOwner: x.hasOwner,
              consent: { ownership_history: x.history, owner_identity: x.identity }
            }
            const chosen = regimeFor(inputs, s)
            const decision = decide({ ...base, regime: chosen.regime, regimeReason: chosen.reason }, s)
            const shown = new Set(decision.allowed.map((a) => a.group))
            const unknown =
              s.unknownRegionRegime === "default" || (s.unknownRegionRegime === "gdpr" ? s.gdprEnabled : s.ccpaEnabled)
                ? s.unknownRegionRegime
                : "default"
            // every regime that applies: the scanner's (unknown → the default), the owner's, the claim's
            const applicable: Array<Regime> = [x.scanner === null ? unknown : regimeOf(x.scanner, s)]
            if (x.hasOwner) applicable.push(x.jurisdiction === null ? unknown : regimeOf(x.jurisdiction, s))
            if (x.claimed !== null) applicable.push(regimeOf(x.claimed, s))
            expect(applicable).toContain(chosen.regime)
            for (const r of applicable) expect(subset(shown, allowedOf({ ...base, regime: r }, s))).toBe(true)
            // the claim can only narrow: the same scan without it shows at least as much
            const unclaimed = regimeFor({ ...inputs, claimedRegion: null }, s)
            expect(subset(shown, allowedOf({ ...base, regime: unclaimed.regime }, s))).toBe(true)
            // every decision names the version of the rules and settings that made it, and why its regime
            expect(decision.policyVersion).toBe(policyVersion(s))
            expect(decision.reason?.length ?? 0).toBeGreaterThan(5)
          }
        ),
        { numRuns: 3000 }
      )
    }
  )

  it("an unknown region gets the strictest regime and says so; a claim or the owner only makes it stricter", () => {
    const none = { scannerRegion: null, claimedRegion: null, hasOwner: false, ownerJurisdiction: null }
    expect(regimeFor(none)).toEqual({ regime: "gdpr", reason: UNKNOWN_REGION_REASON })
    // a US scanner claiming to be in Japan is still under the default rules, claiming France under GDPR
    expect(regimeFor({ ...none, scannerRegion: "US-NY", claimedRegion: "JP" }).regime).toBe("default")
    expect(regimeFor({ ...none, scannerRegion: "US-NY", claimedRegion: "FR" }).regime).toBe("gdpr")
    // a French scanner claiming the US is still under GDPR
    expect(regimeFor({ ...none, scannerRegion: "FR", claimedRegion: "US-NY" }).regime).toBe("gdpr")
    // an EU owner's data is under GDPR wherever it is scanned (art. 3)
    const eu = regimeFor({ ...none, scannerRegion: "US-NY", hasOwner: true, ownerJurisdiction: "DE" })
    expect(eu).toEqual({ regime: "gdpr", reason: "owner's jurisdiction DE" })
    // an owner who never gave a jurisdiction is protected by the strictest regime
    expect(regimeFor({ ...none, scannerRegion: "US-NY", hasOwner: true }).regime).toBe("gdpr")
    // a stack may name another default for unknown regions; the reason says which
    const lax = { ...DefaultPolicySettings, unknownRegionRegime: "default" as const }
    expect(regimeFor(none, lax)).toEqual({
      regime: "default",
      reason: "region unknown: the stack's default regime (default)"
    })
  })

  it("GDPR_ENABLED / CCPA_ENABLED off: that regime's regions fall to the default rules, and the version changes", () => {
    const off = { ...DefaultPolicySettings, gdprEnabled: false, ccpaEnabled: false }
    expect(regimeOf("FR", off)).toBe("default")
    expect(regimeOf("US-CA", off)).toBe("default")
    expect(regimeOf("US-CA")).toBe("ccpa")
    expect(policyVersion(off)).not.toBe(policyVersion())
    expect(policyVersion()).toMatch(new RegExp(`^${PolicyRules.name}\\+[0-9a-f]{12}$`))
  })
})
