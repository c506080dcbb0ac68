import type { Decision, FacetGroup, Intent, Role } from "../../shared/domain/Scan.js"
import type { Relation } from "../brain/Api.js"

/**
 * Policy rules, pure: regime from region, facet groups per intent, and who may see the two personal
 * groups (ownership_history, owner_identity). Product groups carry no personal data and are shown to
 * anyone whose intent needs them. Ownership history entries carry user ids only when owner_identity
 * is allowed in the same decision (knowledge renders it so): an EU public scanner, never allowed
 * owner_identity, can therefore never see who owned the garment.
 */
export const POLICY_VERSION = "2026-11-01"

export type Regime = Decision["regime"]

const GDPR_COUNTRIES = new Set(
  // EU 27 (GR and EL both used for Greece), EEA (IS, LI, NO), UK (GB, UK)
  "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB UK".split(" ")
)

export const regimeOf = (regionCode: string): Regime => {
  const country = regionCode.slice(0, 2)
  if (GDPR_COUNTRIES.has(country)) return "gdpr"
  if (regionCode === "US-CA") return "ccpa"
  return "default"
}

export const FacetGroups: ReadonlyArray<FacetGroup> = [
  "materials",
  "origin",
  "supply_chain",
  "care",
  "certifications",
  "ownership_history",
  "owner_identity"
]
const PRODUCT: ReadonlyArray<FacetGroup> = ["materials", "origin", "supply_chain", "care", "certifications"]
const ALL = FacetGroups

/** Which groups each intent needs; the rest are denied as out of scope. */
export const IntentGroups: Readonly<Record<Intent, ReadonlyArray<FacetGroup>>> = {
  public_view: ALL,
  owner_view: ALL,
  authenticity_check: ["origin", "supply_chain", "certifications", "ownership_history"],
  care_instructions: ["materials", "care"],
  ownership_transfer: ["materials", "origin", "certifications", "ownership_history", "owner_identity"],
  brand_inspection: ALL,
  audit: ALL
}

/** Consent purposes an owner grants or withdraws: the personal facet groups. */
export const ConsentPurposes = ["ownership_history", "owner_identity"] as const
export type ConsentPurpose = (typeof ConsentPurposes)[number]
export type ConsentState = "granted" | "withdrawn" | "none"

export interface DecisionInput {
  readonly role: Role
  readonly relation: Relation
  readonly intent: Intent
  readonly regime: Regime
  readonly hasOwner: boolean
  readonly consent: Readonly<Record<ConsentPurpose, ConsentState>>
}

/** True when the decision depends on the owner's consents (so they must be loaded). */
export const needsConsent = (i: Omit<DecisionInput, "consent">): boolean =>
  i.hasOwner &&
  !privileged(i.role, i.relation) &&
  IntentGroups[i.intent].some((g) => g === "ownership_history" || g === "owner_identity")

const privileged = (role: Role, relation: Relation) => relation === "owner" || role === "admin" || role === "auditor"

type Verdict = { readonly allow: boolean; readonly reason: string }

const personal = (group: "ownership_history" | "owner_identity", i: DecisionInput): Verdict => {
  if (group === "owner_identity" && !i.hasOwner) return { allow: false, reason: "the garment has no current owner" }
  if (i.relation === "owner") return { allow: true, reason: "you are the garment's current owner" }
  if (i.role === "admin") return { allow: true, reason: "administrator access" }
  if (i.role === "auditor") return { allow: true, reason: "auditor access for compliance review" }
  if (!i.hasOwner) return { allow: true, reason: "the garment has no current owner; no personal data is shown" }
  const c = i.consent[group]
  const label = group === "owner_identity" ? "identity" : "ownership history"
  if (group === "ownership_history" && i.role === "brand" && i.relation === "own_brand") {
    return c === "withdrawn"
      ? { allow: false, reason: "the owner withdrew consent to share ownership history" }
      : { allow: true, reason: "brand of the garment: ownership history without identifiers unless consented" }
  }
  if (group === "owner_identity" && i.regime === "gdpr" && i.relation !== "own_brand") {
    return { allow: false, reason: "GDPR: the owner's identity is never shown to public scanners" }
  }
  if (group === "owner_identity" || i.regime === "gdpr") {
    // opt-in: GDPR for both personal groups; identity everywhere
    return c === "granted"
      ? { allow: true, reason: `the owner consented to share their ${label}` }
      : {
          allow: false,
          reason: `${i.regime === "gdpr" ? "GDPR: " : ""}the owner has not consented to share their ${label}`
        }
  }
  // CCPA and default: ownership history without identifiers is shown until the owner opts out
  return c === "withdrawn"
    ? { allow: false, reason: `${i.regime === "ccpa" ? "CCPA: " : ""}the owner opted out of sharing their ${label}` }
    : {
        allow: true,
        reason: `${i.regime === "ccpa" ? "CCPA: " : ""}shown without identifiers until the owner opts out`
      }
}

export const decide = (i: DecisionInput): Decision => {
  const allowed: Array<{ group: FacetGroup; reason: string }> = []
  const denied: Array<{ group: FacetGroup; reason: string }> = []
  const scope = IntentGroups[i.intent]
  for (const group of FacetGroups) {
    if (!scope.includes(group)) {
      denied.push({ group, reason: `not part of intent ${i.intent}` })
      continue
    }
    const v: Verdict =
      group === "ownership_history" || group === "owner_identity"
        ? personal(group, i)
        : { allow: PRODUCT.includes(group), reason: "product information, public" }
    ;(v.allow ? allowed : denied).push({ group, reason: v.reason })
  }
  return { regime: i.regime, policyVersion: POLICY_VERSION, allowed, denied }
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
