import type { Intent, Role } from "../../shared/domain/Scan.js"
import type { Relation } from "./Api.js"

/**
 * The intent rules, in one table. A scanner may ask for an intent (the hint); brain grants it when the
 * scanner's role and relation to the garment allow it, and otherwise REFUSES (403 naming the intent)
 * rather than silently downgrading: a client asking for `audit` and getting a public view would show
 * the wrong screen without knowing why. Without a hint, the first default that matches wins.
 */
interface Who {
  readonly role: Role
  readonly relation: Relation
}

export interface IntentRule {
  readonly intent: Intent
  readonly allowed: (w: Who) => boolean
  /** what the refusal says the intent needs */
  readonly requires: string
}

const anyone = () => true
const currentOwner = (w: Who) => w.role === "owner" && w.relation === "owner"

export const IntentRules: ReadonlyArray<IntentRule> = [
  { intent: "public_view", allowed: anyone, requires: "nothing" },
  { intent: "authenticity_check", allowed: anyone, requires: "nothing" },
  { intent: "care_instructions", allowed: anyone, requires: "nothing" },
  { intent: "owner_view", allowed: currentOwner, requires: "being the garment's current owner" },
  { intent: "ownership_transfer", allowed: currentOwner, requires: "being the garment's current owner" },
  {
    intent: "brand_inspection",
    allowed: (w) => w.role === "admin" || (w.role === "brand" && w.relation === "own_brand"),
    requires: "brand staff of the garment's brand, or admin"
  },
  { intent: "audit", allowed: (w) => w.role === "auditor" || w.role === "admin", requires: "role auditor or admin" }
]

/** Defaults when no hint is given, in order. */
export const DefaultIntents: ReadonlyArray<{ readonly when: (w: Who) => boolean; readonly intent: Intent }> = [
  { when: currentOwner, intent: "owner_view" },
  { when: (w) => w.role === "brand" && w.relation === "own_brand", intent: "brand_inspection" },
  { when: (w) => w.role === "auditor" || w.role === "admin", intent: "audit" },
  { when: anyone, intent: "public_view" }
]

export type IntentOutcome =
  | { readonly ok: true; readonly intent: Intent }
  | { readonly ok: false; readonly intent: Intent; readonly message: string }

export const resolveIntent = (w: Who, hint: Intent | undefined): IntentOutcome => {
  if (hint === undefined) {
    const d = DefaultIntents.find((x) => x.when(w))
    return { ok: true, intent: d?.intent ?? "public_view" }
  }
  const rule = IntentRules.find((r) => r.intent === hint)
  if (rule === undefined || !rule.allowed(w)) {
    return {
      ok: false,
      intent: hint,
      message: `intent ${hint} is not allowed for role ${w.role}${w.relation === "none" ? "" : ` (${w.relation})`}: it requires ${rule?.requires ?? "a known intent"}`
    }
  }
  return { ok: true, intent: hint }
}
