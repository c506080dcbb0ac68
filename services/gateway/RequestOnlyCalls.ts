import { Effect } from "effect"
import type { Decision, Intent } from "../../shared/domain/Scan.js"
import { Lru } from "../../shared/Lru.js"
import type { BrainCalls } from "../brain/Client.js"
import type { PolicyCalls } from "../policy/Client.js"

/**
 * The two answers of a scan that depend on the request alone: brain's intent (its rules of role,
 * relation and hint) and policy's decision about a garment nobody owns (no consents, no owner's
 * jurisdiction: the rules and the regions only). Kept per request for `ttlMs` — as long as the scan
 * answers built from them are kept — so a scan of a garment this replica has not seen yet costs
 * knowledge's calls, not brain's and policy's too. A decision about an owned garment is asked every
 * time; one of another rules version (a policy replica mid-rollout) is served, never kept.
 */
export const requestOnlyCalls = (
  calls: { readonly brain: BrainCalls; readonly policy: PolicyCalls },
  policyVersion: string,
  ttlMs: number
): { readonly brain: BrainCalls; readonly policy: PolicyCalls } => {
  const intents = new Lru<string, Intent>(1_000, ttlMs)
  const decisions = new Lru<string, Decision>(10_000, ttlMs)
  return {
    brain: {
      resolveIntent: (req) => {
        const key = `${req.role}|${req.relation}|${req.hint ?? ""}`
        const hit = intents.get(key)
        return hit !== undefined
          ? Effect.succeed(hit)
          : Effect.tap(calls.brain.resolveIntent(req), (intent) => Effect.sync(() => intents.set(key, intent)))
      }
    },
    policy: {
      decide: (req) => {
        if (req.ownerUserId !== null) return calls.policy.decide(req)
        const key = `${req.role}|${req.relation}|${req.intent}|${req.scannerRegion ?? "?"}|${req.claimedRegion ?? "-"}`
        const hit = decisions.get(key)
        return hit !== undefined
          ? Effect.succeed(hit)
          : Effect.tap(calls.policy.decide(req), (d) =>
              Effect.sync(() => {
                if (d.policyVersion === policyVersion) decisions.set(key, d)
              })
            )
      }
    }
  }
}
