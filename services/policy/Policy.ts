import { Effect, Option, Schema } from "effect"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Decision } from "../../shared/domain/Scan.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { publishFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"
import { type ConsentChange, type DecisionRequest, GarmentNotFound } from "./Api.js"
import { ownerGenerationKey } from "./Keys.js"
import { ConsentRepo } from "./Repo.js"
import {
  type ConsentState,
  consentStateOf,
  decide,
  needsConsent,
  policySettingsOf,
  policyVersion,
  regimeFor
} from "./Rules.js"
import { recordPolicyVersion } from "./Versions.js"

const DECISION_TTL_SECONDS = 5 * 60
const encodeDecision = Schema.encodeSync(Schema.parseJson(Decision))
const decodeDecision = Schema.decodeUnknownOption(Schema.parseJson(Decision))

const noConsent: Record<"ownership_history" | "owner_identity", ConsentState> = {
  ownership_history: "none",
  owner_identity: "none"
}

/**
 * Policy: consent records and decisions. A decision about an owned garment depends on the owner's
 * jurisdiction and consents; it is cached 5 min in Redis under the policy version and the owner's
 * generation, which every consent or jurisdiction change increments before it answers — so the very
 * next scan, on any replica, reads a new generation and never an old decision (nor one of an old version).
 */
export class Policy extends Effect.Service<Policy>()("brandme/Policy", {
  dependencies: [ConsentRepo.Default],
  effect: Effect.gen(function* () {
    const repo = yield* ConsentRepo
    const redis = yield* Redis
    const metrics = yield* Effect.serviceOption(Metrics)
    const config = yield* AppConfig
    const settings = policySettingsOf(config)
    const version = policyVersion(settings)
    // the running version goes to the audit log once (the first replica to start it); a failure is retried next start
    yield* recordPolicyVersion(settings).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning(`policy version ${version} not recorded yet (retried at next start): ${e.message}`)
      )
    )
    const count = (regime: string, cache: string) =>
      Option.map(metrics, ({ m }) => m.policyDecisionsTotal.inc({ regime, cache }))

    const generation = (owner: string) =>
      Effect.map(
        Effect.orElseSucceed(redis.get(ownerGenerationKey(owner)), () => null),
        (g) => g ?? "0"
      )

    const decideFor = (req: DecisionRequest) =>
      Effect.gen(function* () {
        const base = { role: req.role, relation: req.relation, intent: req.intent }
        const regimeWith = (ownerJurisdiction: string | null) =>
          regimeFor(
            {
              scannerRegion: req.scannerRegion,
              claimedRegion: req.claimedRegion,
              hasOwner: req.ownerUserId !== null,
              ownerJurisdiction
            },
            settings
          )
        if (req.ownerUserId === null) {
          const r = regimeWith(null)
          count(r.regime, "bypass")
          return decide(
            { ...base, regime: r.regime, regimeReason: r.reason, hasOwner: false, consent: noConsent },
            settings
          )
        }
        // the owner's jurisdiction and consents live under their generation: one cached decision per inputs
        const owner = req.ownerUserId
        const gen = req.ownerGeneration ?? (yield* generation(owner))
        const key = `policy:decision:${version}:${owner}:${gen}:${req.garmentId}:${req.role}:${req.relation}:${req.intent}:${req.scannerRegion ?? "?"}:${req.claimedRegion ?? "-"}`
        const cached = yield* Effect.orElseSucceed(redis.get(key), () => null)
        const hit = cached === null ? Option.none() : decodeDecision(cached)
        if (Option.isSome(hit)) {
          count(hit.value.regime, "hit")
          return hit.value
        }
        // the owner's jurisdiction and this garment's consents in one query (the consents unused when the
        // regime needs none: read anyway, one round trip rather than two)
        const facts = yield* repo.ownerFacts(owner, req.garmentId)
        const r = regimeWith(facts.jurisdiction)
        const input = { ...base, regime: r.regime, regimeReason: r.reason, hasOwner: true }
        count(r.regime, "miss")
        const consent = needsConsent(input) ? consentStateOf(facts.consents) : noConsent
        const decision = decide({ ...input, consent }, settings)
        // kept without waiting for Redis's reply: keyed by the owner's generation, a late write is never read after a change
        yield* redis.cacheLater([[key, encodeDecision(decision)]], DECISION_TTL_SECONDS)
        return decision
      }).pipe(Effect.withSpan("Policy.decide", { captureStackTrace: false }))

    const change = (p: Principal, c: typeof ConsentChange.Type, traceparent?: string) =>
      Effect.gen(function* () {
        if (p.role !== "owner") {
          return yield* new Forbidden({ message: `only garment owners record consents; your role is ${p.role}` })
        }
        if (c.garmentId !== null) {
          const g = yield* repo.garmentOwner(c.garmentId)
          if (Option.isNone(g)) return yield* new GarmentNotFound({ message: `garment ${c.garmentId} does not exist` })
          if (g.value.owner_user_id !== p.userId) {
            return yield* new Forbidden({ message: `you do not own garment ${c.garmentId}` })
          }
        }
        const record = yield* repo.insert({
          owner: p.userId,
          garment: c.garmentId,
          purpose: c.purpose,
          granted: c.granted,
          version
        })
        // the generation bump is what makes every cached decision for this owner stale: it must succeed
        const raw = yield* Effect.orDie(redis.cache)
        const generation = yield* Effect.orDie(Effect.promise(() => raw.incr(redis.key(ownerGenerationKey(p.userId)))))
        const subjects = yield* ScanPathSubjects
        yield* publishFact(
          subjects.consentChanged,
          { ownerUserId: p.userId, garmentId: c.garmentId, purpose: c.purpose, granted: c.granted, generation },
          traceparent
        )
        return record
      }).pipe(Effect.withSpan("Policy.changeConsent"))

    const list = (p: Principal) =>
      p.role === "owner"
        ? Effect.map(repo.current(p.userId), (current) => ({ current }))
        : Effect.fail(new Forbidden({ message: `only garment owners have consents; your role is ${p.role}` }))

    return { decide: decideFor, change, list }
  })
}) {}
