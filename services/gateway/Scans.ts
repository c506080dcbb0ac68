import { randomUUID } from "node:crypto"
import { DateTime, Effect, Option, Schema } from "effect"
import { bearerToken, type Principal, sessionKey, Tokens, Unauthorized } from "../../shared/auth/Tokens.js"
import { parseTag, tagKey } from "../../shared/domain/DigitalLink.js"
import { Decision, Intent, type Role, ScanEvent } from "../../shared/domain/Scan.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import type { Relation } from "../brain/Api.js"
import { BrainClient } from "../brain/Client.js"
import { FacetsView, type GarmentRecord } from "../knowledge/Api.js"
import { KnowledgeClient } from "../knowledge/Client.js"
import { garmentGenerationKey } from "../knowledge/Keys.js"
import { PolicyClient } from "../policy/Client.js"
import { ownerGenerationKey } from "../policy/Keys.js"
import { IdempotencyConflict, type ScanRequest, ScanResult } from "./Api.js"
import { verifyToken } from "./Auth.js"
import { ScanEnqueuer } from "./Enqueuer.js"
import { subscribeInvalidations } from "./Invalidation.js"
import { Lru } from "./Lru.js"

export interface ScanInput {
  readonly request: ScanRequest
  readonly authorization: string | undefined
  readonly idempotencyKey: string | undefined
  readonly xRegion: string | undefined
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
const REGION = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/

const encodeEvent = Schema.encodeSync(ScanEvent)

/** `X-Region` as sent by an edge (CF-IPCountry style); anything unusable means "unknown" (ZZ, default regime). */
export const headerRegion = (h: string | undefined): string | undefined => {
  const v = h?.trim().toUpperCase()
  return v !== undefined && REGION.test(v) && v !== "XX" && v !== "T1" ? v : undefined
}

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
  dependencies: [ScanEnqueuer.Default],
  scoped: Effect.gen(function* () {
    const brain = yield* BrainClient
    const policy = yield* PolicyClient
    const knowledge = yield* KnowledgeClient
    const enqueuer = yield* ScanEnqueuer
    const redis = yield* Redis
    const tokens = yield* Tokens
    const raw = yield* Effect.orDie(redis.cache)
    const metrics = yield* Effect.serviceOption(Metrics)
    const refs = new Lru<string, { record: GarmentRecord; gen: string }>(50_000, 60 * 60_000)
    const hot = new Lru<string, Answer & { readonly ownerUserId: string | null; readonly garmentId: string }>(
      50_000,
      HOT_TTL_MS
    )
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
    const countCache = (result: "hit" | "miss") =>
      Option.map(metrics, ({ m }) => m.cacheRequestsTotal.inc({ cache: "scan_answer", result }))

    const answerFor = (
      record: GarmentRecord,
      role: Role,
      relation: Relation,
      region: string,
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
          regionCode: region
        })
        const facets = yield* knowledge.view(
          record.id,
          decision.allowed.map((a) => a.group)
        )
        const answer: Answer = { intent, decision, facets }
        yield* Effect.ignore(
          redis.set(`gateway:answer:${key}`, Schema.encodeSync(AnswerJson)(answer), ANSWER_TTL_SECONDS)
        )
        return answer
      })

    const scan = (input: ScanInput) =>
      Effect.gen(function* () {
        const t0 = performance.now()
        const ref = yield* parseTag(input.request.tag)
        const token = yield* bearerToken(input.authorization)
        const principal = Option.isSome(token)
          ? yield* Effect.provideService(verifyToken(token.value), Tokens, tokens)
          : undefined
        const region = input.request.context?.region ?? headerRegion(input.xRegion) ?? "ZZ"
        const hint = input.request.context?.intent
        const refKey = tagKey(ref)
        const fingerprint = `${refKey}|${region}|${hint ?? ""}`
        const idemKey =
          input.idempotencyKey === undefined
            ? undefined
            : `gateway:idem:${principal?.userId ?? "anonymous"}:${input.idempotencyKey}`

        // one round trip for everything a warm scan must read fresh
        let cached = refs.get(refKey)
        const keys: Array<string> = []
        if (cached !== undefined) {
          keys.push(garmentGenerationKey(cached.record.id))
          if (cached.record.ownerUserId !== null) keys.push(ownerGenerationKey(cached.record.ownerUserId))
        }
        const sessionAt = principal === undefined ? -1 : keys.push(sessionKey(principal.sessionId)) - 1
        const idemAt = idemKey === undefined ? -1 : keys.push(idemKey) - 1
        const values = yield* mget(keys)
        if (principal !== undefined && values[sessionAt] == null) {
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
        const key = `${record.id}|${cached.gen}|${ownerGen}|${role}|${relation}|${region}|${hint ?? ""}`
        let answer: Answer | undefined = hot.get(key)
        countCache(answer === undefined ? "miss" : "hit")
        if (answer === undefined) {
          answer = yield* answerFor(record, role, relation, region, hint, key)
          hot.set(key, { ...answer, ownerUserId: record.ownerUserId, garmentId: record.id })
        }
        const scanId = randomUUID()
        const now = new Date()
        const result: ScanResult = {
          scanId,
          scannedAt: now.toISOString(),
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
        }
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
        yield* enqueuer
          .enqueue(
            encodeEvent({
              scanId,
              garmentId: record.id,
              scannerUserId: principal?.userId ?? null,
              deviceId: null,
              role,
              intent: answer.intent,
              regionCode: region,
              decision: answer.decision,
              scannedAt: DateTime.unsafeMake(now),
              ...(input.traceparent !== undefined ? { traceparent: input.traceparent } : {})
            })
          )
          .pipe(Effect.tapError(() => (idemKey === undefined ? Effect.void : Effect.ignore(redis.del(idemKey)))))
        Option.map(metrics, ({ m }) => {
          const outcome =
            answer.decision.denied.length === 0 ? "full" : answer.decision.allowed.length === 0 ? "denied" : "partial"
          m.scansTotal.inc({ intent: answer.intent, decision: outcome })
          m.scanDuration.observe({ intent: answer.intent }, (performance.now() - t0) / 1000)
        })
        return result
      })

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
      /** for tests: how many answers this replica holds */
      hotSize: () => hot.size
    }
  })
}) {}
