import { toHex, utf8 } from "../../shared/audit/Bytes.js"
import { sha256 } from "../../shared/audit/Sha256.js"
import type { AppConfigShape } from "../../shared/config/AppConfig.js"
import type { Decision, FacetGroup, Intent, Role } from "../../shared/domain/Scan.js"
import type { Relation } from "../brain/Api.js"

/**
 * The privacy policy as data: ONE declaration holds the regimes (in order of strictness), which
 * regions and jurisdictions each covers, the facet groups each intent needs and the consent rule of
 * each regime for each audience and personal group. `decide` only interprets it; docs/privacy.md is
 * generated from it; its version names every decision and a change of it is a new version.
 *
 * Strictest: the regimes form a TOTAL ORDER (`strictness`, loosest first), chosen so that for every
 * audience, group and consent state, what a stricter regime shows is a subset of what a looser one
 * shows (Rules.test.ts checks it over every input). The strictest applicable regime is therefore the
 * intersection of what each applicable regime allows: nothing shown under it is denied by any of them.
 */
export type Regime = Decision["regime"]
export type PersonalGroup = "ownership_history" | "owner_identity"

/**
 * How a personal group is shown to an audience, loosest first (each shows a subset of the previous):
 * always · opt_out (shown unless the owner withdrew consent) · opt_in (only once granted) · never.
 */
export const ConsentRuleKinds = ["always", "opt_out", "opt_in", "never"] as const
export type ConsentRule = (typeof ConsentRuleKinds)[number]

/**
 * Who is asking, as the consent rules see it: `full` = the current owner, admins and auditors
 * (their own data, or a compliance duty); `own_brand` = staff of the garment's brand; `others` = everyone else.
 */
export const Audiences = ["full", "own_brand", "others"] as const
export type Audience = (typeof Audiences)[number]

const ALL: ReadonlyArray<FacetGroup> = [
  "materials",
  "origin",
  "supply_chain",
  "care",
  "certifications",
  "ownership_history",
  "owner_identity"
]

export const PolicyRules = {
  /** bump the date when the rules change on purpose; the version also carries a hash of the rules */
  name: "2026-12-03",
  strictness: ["default", "ccpa", "gdpr"] satisfies ReadonlyArray<Regime>,
  regimes: {
    default: {
      label: "",
      covers: [] as ReadonlyArray<string>,
      consent: {
        full: { ownership_history: "always", owner_identity: "always" },
        own_brand: { ownership_history: "opt_out", owner_identity: "opt_in" },
        others: { ownership_history: "opt_out", owner_identity: "opt_in" }
      }
    },
    ccpa: {
      label: "CCPA",
      covers: ["US-CA"],
      consent: {
        full: { ownership_history: "always", owner_identity: "always" },
        own_brand: { ownership_history: "opt_out", owner_identity: "opt_in" },
        others: { ownership_history: "opt_out", owner_identity: "opt_in" }
      }
    },
    gdpr: {
      label: "GDPR",
      // EU 27 (GR and EL both used for Greece), EEA (IS, LI, NO), UK (GB, UK): a country code or its subdivisions
      covers:
        "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB UK".split(" "),
      consent: {
        full: { ownership_history: "always", owner_identity: "always" },
        own_brand: { ownership_history: "opt_out", owner_identity: "opt_in" },
        others: { ownership_history: "opt_in", owner_identity: "never" }
      }
    }
  } satisfies Record<
    Regime,
    {
      readonly label: string
      readonly covers: ReadonlyArray<string>
      readonly consent: Record<Audience, Record<PersonalGroup, ConsentRule>>
    }
  >,
  /** which groups each intent needs; the rest are denied as out of scope */
  intentGroups: {
    public_view: ALL,
    owner_view: ALL,
    authenticity_check: ["origin", "supply_chain", "certifications", "ownership_history"],
    care_instructions: ["materials", "care"],
    ownership_transfer: ["materials", "origin", "certifications", "ownership_history", "owner_identity"],
    brand_inspection: ALL,
    audit: ALL
  } satisfies Record<Intent, ReadonlyArray<FacetGroup>>
} as const

export const FacetGroups: ReadonlyArray<FacetGroup> = ALL
export const IntentGroups: Readonly<Record<Intent, ReadonlyArray<FacetGroup>>> = PolicyRules.intentGroups
const PERSONAL: ReadonlyArray<FacetGroup> = ["ownership_history", "owner_identity"]
const isPersonal = (g: FacetGroup): g is PersonalGroup => PERSONAL.includes(g)

/** Consent purposes an owner grants or withdraws: the personal facet groups. */
export const ConsentPurposes = ["ownership_history", "owner_identity"] as const
export type ConsentPurpose = (typeof ConsentPurposes)[number]
export type ConsentState = "granted" | "withdrawn" | "none"

// ---- the regime of a decision -------------------------------------------------------------------

/** What a stack's configuration changes about the rules (GDPR_ENABLED, CCPA_ENABLED, UNKNOWN_REGION_REGIME). */
export interface PolicySettings {
  readonly gdprEnabled: boolean
  readonly ccpaEnabled: boolean
  /** the regime when the scanner's region (or the owner's jurisdiction) is unknown */
  readonly unknownRegionRegime: Regime
}
export const DefaultPolicySettings: PolicySettings = {
  gdprEnabled: true,
  ccpaEnabled: true,
  unknownRegionRegime: "gdpr"
}

/** The stack's switches of the rules (GDPR_ENABLED, CCPA_ENABLED, UNKNOWN_REGION_REGIME). */
export const policySettingsOf = (c: AppConfigShape): PolicySettings => ({
  gdprEnabled: c.privacy.gdprEnabled,
  ccpaEnabled: c.privacy.ccpaEnabled,
  unknownRegionRegime: c.privacy.unknownRegionRegime
})

const enabled = (s: PolicySettings, r: Regime) => r === "default" || (r === "gdpr" ? s.gdprEnabled : s.ccpaEnabled)

/** The version every decision names: the rules' name, a hash of the rules and of the settings that change them. */
export const policyVersion = (s: PolicySettings = DefaultPolicySettings): string => {
  const key = `${s.gdprEnabled}|${s.ccpaEnabled}|${s.unknownRegionRegime}`
  let v = versions.get(key)
  if (v === undefined) {
    const settings = {
      gdprEnabled: s.gdprEnabled,
      ccpaEnabled: s.ccpaEnabled,
      unknownRegionRegime: s.unknownRegionRegime
    }
    v = `${PolicyRules.name}+${toHex(sha256(utf8(JSON.stringify({ rules: PolicyRules, settings })))).slice(0, 12)}`
    versions.set(key, v)
  }
  return v
}
const versions = new Map<string, string>()

/** The regime a region (or a jurisdiction) falls under: a country code, or a subdivision named in the table. */
export const regimeOf = (regionCode: string, s: PolicySettings = DefaultPolicySettings): Regime => {
  const country = regionCode.slice(0, 2)
  for (const r of [...PolicyRules.strictness].reverse()) {
    const covers: ReadonlyArray<string> = PolicyRules.regimes[r].covers
    if (enabled(s, r) && (covers.includes(regionCode) || covers.includes(country))) return r
  }
  return "default"
}

const rank = (r: Regime) => PolicyRules.strictness.indexOf(r)
export const stricter = (a: Regime, b: Regime): Regime => (rank(b) > rank(a) ? b : a)

/** What the regime of a decision is drawn from. `null` = unknown. */
export interface RegimeInputs {
  /** the scanner's region as our ingress saw it (trusted); null when the edge did not say */
  readonly scannerRegion: string | null
  /** the region the client declared (context.region): may only make the decision stricter */
  readonly claimedRegion: string | null
  /** the garment has a current owner */
  readonly hasOwner: boolean
  /** that owner's jurisdiction (from sign-up or account settings); null when they never gave one */
  readonly ownerJurisdiction: string | null
}

export const UNKNOWN_REGION_REASON = "region unknown: strictest regime"

/**
 * The strictest regime among those that apply: the scanner's region (unknown → the configured
 * default, the strictest unless the stack says otherwise), the owner's jurisdiction (GDPR art. 3:
 * the data subject's protection follows them; unknown → the same default) and the client's claim.
 * The reason names the input that decided it.
 */
export const regimeFor = (i: RegimeInputs, s: PolicySettings = DefaultPolicySettings) => {
  const unknown = enabled(s, s.unknownRegionRegime) ? s.unknownRegionRegime : "default"
  const strictest = unknown === PolicyRules.strictness[PolicyRules.strictness.length - 1]
  const unknownReason = strictest ? UNKNOWN_REGION_REASON : `region unknown: the stack's default regime (${unknown})`
  const candidates: Array<{ regime: Regime; reason: string }> = [
    i.scannerRegion === null
      ? { regime: unknown, reason: unknownReason }
      : { regime: regimeOf(i.scannerRegion, s), reason: `scanner region ${i.scannerRegion}` }
  ]
  if (i.hasOwner) {
    candidates.push(
      i.ownerJurisdiction === null
        ? {
            regime: unknown,
            reason: `owner's jurisdiction unknown: ${strictest ? "strictest regime" : `the stack's default regime (${unknown})`}`
          }
        : { regime: regimeOf(i.ownerJurisdiction, s), reason: `owner's jurisdiction ${i.ownerJurisdiction}` }
    )
  }
  if (i.claimedRegion !== null) {
    candidates.push({ regime: regimeOf(i.claimedRegion, s), reason: `declared region ${i.claimedRegion}` })
  }
  // the first candidate of the highest rank: the scanner's own region explains a tie
  let best = candidates[0] ?? { regime: unknown, reason: unknownReason }
  for (const c of candidates) if (rank(c.regime) > rank(best.regime)) best = c
  return best
}

// ---- the decision -------------------------------------------------------------------------------

export interface DecisionInput {
  readonly role: Role
  readonly relation: Relation
  readonly intent: Intent
  readonly regime: Regime
  readonly hasOwner: boolean
  readonly consent: Readonly<Record<ConsentPurpose, ConsentState>>
  /** why this regime (see regimeFor); defaults to the regime's own name */
  readonly regimeReason?: string
}

export const audienceOf = (role: Role, relation: Relation): Audience =>
  relation === "owner" || role === "admin" || role === "auditor"
    ? "full"
    : role === "brand" && relation === "own_brand"
      ? "own_brand"
      : "others"

/** True when the decision depends on the owner's consents (so they must be loaded). */
export const needsConsent = (i: Omit<DecisionInput, "consent">): boolean =>
  i.hasOwner && audienceOf(i.role, i.relation) !== "full" && IntentGroups[i.intent].some(isPersonal)

/** The consent rule of a regime for an audience and a personal group (widened from the declaration's literals). */
export const consentRule = (regime: Regime, audience: Audience, group: PersonalGroup): ConsentRule =>
  PolicyRules.regimes[regime].consent[audience][group]

type Verdict = { readonly allow: boolean; readonly reason: string }

const fullReason = (i: DecisionInput) =>
  i.relation === "owner"
    ? "you are the garment's current owner"
    : i.role === "admin"
      ? "administrator access"
      : "auditor access for compliance review"

const personal = (group: PersonalGroup, i: DecisionInput): Verdict => {
  if (group === "owner_identity" && !i.hasOwner) return { allow: false, reason: "the garment has no current owner" }
  const audience = audienceOf(i.role, i.relation)
  if (audience === "full") return { allow: true, reason: fullReason(i) }
  if (!i.hasOwner) return { allow: true, reason: "the garment has no current owner; no personal data is shown" }
  const regime = PolicyRules.regimes[i.regime]
  const rule = consentRule(i.regime, audience, group)
  const c = i.consent[group]
  const by = regime.label === "" ? "" : `${regime.label}: `
  const label = group === "owner_identity" ? "identity" : "ownership history"
  switch (rule) {
    case "always":
      return { allow: true, reason: `${by}shown to this scanner` }
    case "never":
      return { allow: false, reason: `${by}the owner's ${label} is never shown to this scanner` }
    case "opt_in":
      return c === "granted"
        ? { allow: true, reason: `the owner consented to share their ${label}` }
        : { allow: false, reason: `${by}the owner has not consented to share their ${label}` }
    case "opt_out":
      if (c === "withdrawn") return { allow: false, reason: `${by}the owner opted out of sharing their ${label}` }
      return audience === "own_brand"
        ? { allow: true, reason: `${by}brand of the garment: ${label} without identifiers unless consented` }
        : { allow: true, reason: `${by}shown without identifiers until the owner opts out` }
  }
}

export const decide = (i: DecisionInput, s: PolicySettings = DefaultPolicySettings): Decision => {
  const allowed: Array<{ group: FacetGroup; reason: string }> = []
  const denied: Array<{ group: FacetGroup; reason: string }> = []
  const scope = IntentGroups[i.intent]
  for (const group of FacetGroups) {
    if (!scope.includes(group)) {
      denied.push({ group, reason: `not part of intent ${i.intent}` })
      continue
    }
    const v: Verdict = isPersonal(group) ? personal(group, i) : { allow: true, reason: "product information, public" }
    ;(v.allow ? allowed : denied).push({ group, reason: v.reason })
  }
  return {
    regime: i.regime,
    reason: i.regimeReason ?? `${i.regime} regime`,
    policyVersion: policyVersion(s),
    allowed,
    denied
  }
}

/** Latest row wins among the rows for this garment and the rows for all garments (append-only log). */
export const consentStateOf = (
  rows: ReadonlyArray<{ readonly purpose: string; readonly granted: boolean; readonly id: string }>
): Record<ConsentPurpose, ConsentState> => {
  const out: Record<ConsentPurpose, ConsentState> = { ownership_history: "none", owner_identity: "none" }
  const latest = new Map<string, { id: bigint; granted: boolean }>()
  for (const r of rows) {
    const id = BigInt(r.id)
    const prev = latest.get(r.purpose)
    if (prev === undefined || id > prev.id) latest.set(r.purpose, { id, granted: r.granted })
  }
  for (const p of ConsentPurposes) {
    const l = latest.get(p)
    if (l !== undefined) out[p] = l.granted ? "granted" : "withdrawn"
  }
  return out
}
