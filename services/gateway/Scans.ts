import { currentTraceparent } from "../../shared/telemetry/TraceContext.js"
import { randomUUID } from "node:crypto"
import * as Headers from "@effect/platform/Headers"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { DateTime, Effect, Either, Option, Schema } from "effect"
import {
  bearerToken,
  type Principal,
  sessionHolds,
  sessionKey,
  Tokens,
  Unauthorized
} from "../../shared/auth/Tokens.js"
import { parseTag, tagKey } from "../../shared/domain/DigitalLink.js"
import { Decision, Intent, type Role, ScanEvent, type ScanEventEncoded } from "../../shared/domain/Scan.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import type { Relation } from "../brain/Api.js"
import { BrainClient } from "../brain/Client.js"
import { FacetsView, type GarmentRecord } from "../knowledge/Api.js"
import { KnowledgeClient } from "../knowledge/Client.js"
import { garmentGenerationKey } from "../knowledge/Keys.js"
import { PolicyClient } from "../policy/Client.js"
import { ownerGenerationKey } from "../policy/Keys.js"
import { policySettingsOf, policyVersion } from "../policy/Rules.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { IdempotencyConflict, type QueueUnavailable, type ScanRequest, ScanResult } from "./Api.js"
import { verifyToken } from "../../shared/auth/Authenticate.js"
import { ScanEnqueuer } from "./Enqueuer.js"
import { subscribeInvalidations } from "./Invalidation.js"
import { Lru } from "../../shared/Lru.js"
import { requestOnlyCalls } from "./RequestOnlyCalls.js"
import {
  type RateLimitDecision,
  type RateLimitRule,
  RateLimiter,
  RateLimiterLive
} from "../../shared/http/RateLimit.js"

export interface ScanInput {
  readonly request: ScanRequest
  readonly authorization: string | undefined
  readonly idempotencyKey: string | undefined
  /** the scanner's region from our ingress's geo header, only when it came through trusted hops (Region.ts) */
  readonly geoRegion: string | undefined
  readonly traceparent: string | undefined
}

/** What a scan of one garment shows one kind of scanner; cached whole. */
const Answer = Schema.Struct({ intent: Intent, decision: Decision, facets: FacetsView })
type Answer = typeof Answer.Type
const AnswerJson = Schema.parseJson(Answer)
const Stored = Schema.parseJson(Schema.Struct({ fingerprint: Schema.String, result: ScanResult }))

const HOT_TTL_MS = 60_000
const ANSWER_TTL_SECONDS = 5 * 60 // bounded by the policy decision TTL
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

const encodeEvent = Schema.encodeSync(ScanEvent)

/**
 * A cached answer with its scan event already encoded by `Schema.encode(ScanEvent)`: encoding costs more
 * than the rest of a warm scan, and only scanId, scanner, time and traceparent differ per scan (plain
 * strings in both the decoded and encoded forms, so filling them in gives the same bytes).
 */
interface HotEntry extends Answer {
  readonly ownerUserId: string | null
  readonly garmentId: string
  readonly event: ScanEventEncoded
  /** the answer's JSON after scanId and scannedAt (the warm lane splices those in, no re-serialising) */
  readonly tail: string
}

const PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"

/** What the regime of a scan is drawn from: the edge's region (trusted) and the client's claim (stricter only). */
interface ScanRegions {
  readonly scanner: string | null
  readonly claimed: string | null
}
const regionsOf = (input: ScanInput): ScanRegions => ({
  scanner: input.geoRegion ?? null,
  claimed: input.request.context?.region ?? null
})
/** the region a scan is recorded with: the edge's, else the declared one, else ZZ (unknown) */
const recordedRegion = (r: ScanRegions): string => r.scanner ?? r.claimed ?? "ZZ"

const relationOf = (p: Principal | undefined, g: GarmentRecord): Relation =>
  p === undefined
    ? "none"
    : g.ownerUserId === p.userId
      ? "owner"
      : p.role === "brand" && p.brandId === g.brandId
        ? "own_brand"
        : "none"

/**
 * The scan path. Warm, a scan costs one Redis MGET (garment generation, owner's consent generation,
 * session, idempotency key) and one share of a batched queue add: the answer (intent + decision +
 * facets) is cached whole in-process per (garment, its generation, owner's consent generation, role,
 * relation, region, hint) and in Redis for other replicas. A consent change or garment update bumps a
 * generation in Redis first, so the next scan anywhere builds a new key; NATS facts free old entries.
 */
export class Scans extends Effect.Service<Scans>()("brandme/gateway/Scans", {
  dependencies: [ScanEnqueuer.Default, RateLimiterLive],
  scoped: Effect.gen(function* () {
    const knowledge = yield* KnowledgeClient
    const enqueuer = yield* ScanEnqueuer
    const redis = yield* Redis
    const tokens = yield* Tokens
    const limiter = yield* RateLimiter
    const raw = yield* Effect.orDie(redis.cache)
    const metrics = yield* Effect.serviceOption(Metrics)
    const version = policyVersion(policySettingsOf(yield* AppConfig))
    const { brain, policy } = requestOnlyCalls(
      { brain: yield* BrainClient, policy: yield* PolicyClient },
      version,
      HOT_TTL_MS
    )
    const refs = new Lru<string, { record: GarmentRecord; gen: string }>(50_000, 60 * 60_000)
    const tags = new Lru<string, ReturnType<typeof parseTag>>(20_000, 10 * 60_000)
    const hot = new Lru<string, HotEntry>(50_000, HOT_TTL_MS)
    yield* Effect.forkScoped(
      subscribeInvalidations({
        owner: (owner) => hot.deleteWhere((_, v) => v.ownerUserId === owner),
        garment: (id) => {
          hot.deleteWhere((_, v) => v.garmentId === id)
          refs.deleteWhere((_, v) => v.record.id === id)
        }
      }).pipe(Effect.catchAll((e) => Effect.logWarning(`cache invalidation subscription failed: ${String(e)}`)))
    )
    const mget = (keys: ReadonlyArray<string>) =>
      keys.length === 0
        ? Effect.succeed([] as ReadonlyArray<string | null>)
        : Effect.tryPromise(() => raw.mget(...keys.map(redis.key))).pipe(
            Effect.orElseSucceed(() => keys.map(() => null))
          )
    // label sets built once (the warm lane records three metrics per scan)
    const cacheLabels = { hit: { cache: "scan_answer", result: "hit" }, miss: { cache: "scan_answer", result: "miss" } }
    const scanLabels = new Map<string, { total: Record<string, string>; duration: Record<string, string> }>()
    const countCache = (result: "hit" | "miss") => {
      if (Option.isSome(metrics)) metrics.value.m.cacheRequestsTotal.inc(cacheLabels[result])
    }

    const answerFor = (
      record: GarmentRecord,
      role: Role,
      relation: Relation,
      regions: ScanRegions,
      hint: Intent | undefined,
      key: string
    ) =>
      Effect.gen(function* () {
        const l2 = yield* Effect.orElseSucceed(redis.get(`gateway:answer:${key}`), () => null)
        const decoded = l2 === null ? Option.none() : Schema.decodeUnknownOption(AnswerJson)(l2)
        if (Option.isSome(decoded)) return decoded.value
        const intent = yield* brain.resolveIntent({ role, relation, ...(hint !== undefined ? { hint } : {}) })
        const decision = yield* policy.decide({
          garmentId: record.id,
          ownerUserId: record.ownerUserId,
          role,
          relation,
          intent,
          scannerRegion: regions.scanner,
          claimedRegion: regions.claimed
        })
        const facets = yield* knowledge.view(
          record.id,
          decision.allowed.map((a) => a.group)
        )
        const answer: Answer = { intent, decision, facets }
        // a decision of another rules version (a policy replica mid-rollout) is served, never cached under ours
        if (decision.policyVersion !== version) return answer
        yield* Effect.ignore(
          redis.set(`gateway:answer:${key}`, Schema.encodeSync(AnswerJson)(answer), ANSWER_TTL_SECONDS)
        )
        return answer
      })

    const freshEntry = (
      record: GarmentRecord,
      role: Role,
      relation: Relation,
      regions: ScanRegions,
      hint: Intent | undefined,
      key: string
    ) =>
      Effect.map(answerFor(record, role, relation, regions, hint, key), (fresh) => {
        const region = recordedRegion(regions)
        const event = encodeEvent({
          scanId: PLACEHOLDER_ID,
          garmentId: record.id,
          scannerUserId: null,
          deviceId: null,
          role,
          intent: fresh.intent,
          regionCode: region,
          decision: fresh.decision,
          scannedAt: DateTime.unsafeMake(0)
        })
        const tail = JSON.stringify(bodyOf(record, fresh, region)).slice(1)
        const entry: HotEntry = { ...fresh, ownerUserId: record.ownerUserId, garmentId: record.id, event, tail }
        if (fresh.decision.policyVersion === version) hot.set(key, entry)
        return entry
      })

    const answerKey = (
      id: string,
      gen: string,
      ownerGen: string,
      role: Role,
      rel: Relation,
      regions: ScanRegions,
      hint?: Intent
    ) =>
      // everything the answer depends on: the rules' version, the garment's and owner's generations (the
      // owner's covers their consents and jurisdiction), who asks, both regions and the hint
      `${version}|${id}|${gen}|${ownerGen}|${role}|${rel}|${regions.scanner ?? "?"}|${regions.claimed ?? "-"}|${hint ?? ""}`

    /** the garment generation (and the owner's consent generation) to read for a cached tag */
    const generationKeys = (cached: { record: GarmentRecord } | undefined): Array<string> =>
      cached === undefined
        ? []
        : cached.record.ownerUserId === null
          ? [garmentGenerationKey(cached.record.id)]
          : [garmentGenerationKey(cached.record.id), ownerGenerationKey(cached.record.ownerUserId)]

    /** everything of a ScanResult but its id and time, in the schema's key order */
    const bodyOf = (record: GarmentRecord, answer: Answer, region: string) => ({
      garment: {
        id: record.id,
        brandId: record.brandId,
        name: record.name,
        gtin: record.gtin,
        serial: record.serial,
        batch: record.batch
      },
      intent: answer.intent,
      regionCode: region,
      decision: answer.decision,
      facets: answer.facets
    })

    const resultOf = (
      record: GarmentRecord,
      answer: Answer,
      region: string,
      scanId: string,
      now: Date
    ): ScanResult => ({
      scanId,
      scannedAt: now.toISOString(),
      ...bodyOf(record, answer, region)
    })

    const eventOf = (answer: HotEntry, scanId: string, scanner: string | null, now: Date, traceparent?: string) => ({
      ...answer.event,
      scanId,
      scannerUserId: scanner,
      scannedAt: now.toISOString(),
      ...(traceparent !== undefined ? { traceparent } : {})
    })

    const countScan = (answer: HotEntry, t0: number) => {
      if (Option.isNone(metrics)) return
      const outcome =
        answer.decision.denied.length === 0 ? "full" : answer.decision.allowed.length === 0 ? "denied" : "partial"
      const k = `${answer.intent}|${outcome}`
      let labels = scanLabels.get(k)
      if (labels === undefined) {
        labels = { total: { intent: answer.intent, decision: outcome }, duration: { intent: answer.intent } }
        scanLabels.set(k, labels)
      }
      metrics.value.m.scansTotal.inc(labels.total)
      metrics.value.m.scanDuration.observe(labels.duration, (performance.now() - t0) / 1000)
    }

    /**
     * The warm lane, without a fiber, for anonymous scans: the caller's rate-limit rules are checked in
     * the same round trip that reads the generations (batched with every request of this event-loop
     * turn). A scan without Idempotency-Key whose tag, garment and answer are all cached here is
     * answered at once: same answer, same enqueue as `scan`. A refusal returns its decision; anything
     * else (a miss, a stale generation, a key, Redis down: fail open) returns "miss" — the request was
     * admitted and the caller runs `scan` without limiting it again. The per-request Effect runtime
     * costs about as much as the rest of a warm scan.
     */
    const warm = (
      input: ScanInput,
      t0: number,
      rules: ReadonlyArray<RateLimitRule>
    ): Promise<string | "miss" | QueueUnavailable | RateLimitDecision> => {
      const parsed =
        input.authorization === undefined && input.idempotencyKey === undefined
          ? tags.get(input.request.tag)
          : undefined
      const cached = parsed === undefined || Either.isLeft(parsed) ? undefined : refs.get(tagKey(parsed.right))
      return limiter.checkAndRead(rules, generationKeys(cached)).then(
        async ({ decision, values }) => {
          if (!decision.allowed) return decision
          if (cached === undefined || (values[0] ?? "0") !== cached.gen) return "miss" as const
          const record = cached.record
          const hint = input.request.context?.intent
          const ownerGen = record.ownerUserId === null ? "0" : (values[1] ?? "0")
          const answer = hot.get(answerKey(record.id, cached.gen, ownerGen, "public", "none", regionsOf(input), hint))
          if (answer === undefined) return "miss" as const
          countCache("hit")
          const scanId = randomUUID()
          const now = new Date()
          const error = await enqueuer.enqueuePromise(eventOf(answer, scanId, null, now, input.traceparent))
          if (error !== undefined) return enqueuer.queueUnavailable(error)
          countScan(answer, t0)
          // same bytes as JSON.stringify(resultOf(...)): keys in the same order, the rest pre-serialised
          return `{"scanId":"${scanId}","scannedAt":"${now.toISOString()}",${answer.tail}`
        },
        () => "miss" as const
      )
    }

    const scan = (input: ScanInput) =>
      Effect.gen(function* () {
        const t0 = performance.now()
        let parsed = tags.get(input.request.tag)
        if (parsed === undefined) {
          parsed = parseTag(input.request.tag)
          tags.set(input.request.tag, parsed)
        }
        const ref = yield* parsed
        const token = yield* bearerToken(input.authorization)
        const principal = Option.isSome(token)
          ? yield* Effect.provideService(verifyToken(token.value), Tokens, tokens)
          : undefined
        const regions = regionsOf(input)
        const region = recordedRegion(regions)
        const hint = input.request.context?.intent
        const refKey = tagKey(ref)
        const fingerprint = `${refKey}|${regions.scanner ?? "?"}|${regions.claimed ?? "-"}|${hint ?? ""}`
        const idemKey =
          input.idempotencyKey === undefined
            ? undefined
            : `gateway:idem:${principal?.userId ?? "anonymous"}:${input.idempotencyKey}`

        // one round trip for everything a warm scan must read fresh
        let cached = refs.get(refKey)
        const keys = generationKeys(cached)
        const sessionAt = principal === undefined ? -1 : keys.push(sessionKey(principal.sessionId)) - 1
        const idemAt = idemKey === undefined ? -1 : keys.push(idemKey) - 1
        const values = yield* mget(keys)
        if (principal !== undefined && !sessionHolds(values[sessionAt], principal)) {
          return yield* new Unauthorized({ message: "session has ended: sign in again" })
        }
        if (idemAt >= 0) {
          const stored = values[idemAt]
          if (stored != null) return yield* replay(stored, fingerprint, input.idempotencyKey)
        }
        let ownerGen = cached?.record.ownerUserId != null ? (values[1] ?? "0") : "0"
        if (cached === undefined || cached.gen !== (values[0] ?? "0")) {
          const record = yield* knowledge.resolve(ref)
          const [g, o] = yield* mget([
            garmentGenerationKey(record.id),
            ...(record.ownerUserId !== null ? [ownerGenerationKey(record.ownerUserId)] : [])
          ])
          cached = { record, gen: g ?? "0" }
          ownerGen = o ?? "0"
          refs.set(refKey, cached)
        }
        const record = cached.record
        const role: Role = principal?.role ?? "public"
        const relation = relationOf(principal, record)
        const key = answerKey(record.id, cached.gen, ownerGen, role, relation, regions, hint)
        const hit = hot.get(key)
        countCache(hit === undefined ? "miss" : "hit")
        const answer = hit ?? (yield* freshEntry(record, role, relation, regions, hint, key))
        const scanId = randomUUID()
        const now = new Date()
        const result = resultOf(record, answer, region, scanId, now)
        if (idemKey !== undefined) {
          const won = yield* Effect.tryPromise(() =>
            raw.set(
              redis.key(idemKey),
              Schema.encodeSync(Stored)({ fingerprint, result }),
              "EX",
              IDEMPOTENCY_TTL_SECONDS,
              "NX"
            )
          ).pipe(Effect.orElseSucceed(() => "OK" as const))
          if (won !== "OK") {
            const stored = yield* Effect.orElseSucceed(redis.get(idemKey), () => null)
            if (stored !== null) return yield* replay(stored, fingerprint, input.idempotencyKey)
          }
        }
        // the event carries this scan's span so the orchestrator's work joins the same trace
        const scanSpan = yield* currentTraceparent
        yield* enqueuer
          .enqueue(
            eventOf(
              answer,
              scanId,
              principal?.userId ?? null,
              now,
              Option.getOrUndefined(scanSpan) ?? input.traceparent
            )
          )
          .pipe(Effect.tapError(() => (idemKey === undefined ? Effect.void : Effect.ignore(redis.del(idemKey)))))
        countScan(answer, t0)
        return result
      }).pipe(
        // one scan is one trace: continue the caller's traceparent; internal HTTP calls propagate it
        Effect.withSpan("Gateway.scan", {
          kind: "server",
          ...Option.match(
            input.traceparent === undefined
              ? Option.none()
              : HttpTraceContext.w3c(Headers.fromInput({ traceparent: input.traceparent })),
            { onNone: () => ({}), onSome: (parent) => ({ parent }) }
          )
        })
      )

    const replay = (stored: string, fingerprint: string, key: string | undefined) =>
      Effect.gen(function* () {
        const s = Schema.decodeUnknownOption(Stored)(stored)
        if (Option.isNone(s) || s.value.fingerprint !== fingerprint) {
          return yield* new IdempotencyConflict({
            message: `Idempotency-Key "${key}" was already used for a different scan request`
          })
        }
        return s.value.result
      })

    return {
      scan,
      warm,
      /** for tests: how many answers this replica holds */
      hotSize: () => hot.size
    }
  })
}) {}
