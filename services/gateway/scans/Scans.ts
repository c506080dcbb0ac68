import { randomUUID } from "node:crypto"
import type * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import { Effect, Either, Exit, Option, Schema, Tracer } from "effect"
import { type Principal, sessionHolds, sessionKey, Unauthorized } from "../../../shared/auth/Tokens.js"
import { type TagRef, tagKey } from "../../../shared/domain/DigitalLink.js"
import { type FacetGroup, type Intent, type Role, ScanEvent } from "../../../shared/domain/Scan.js"
import {
  type RateLimited,
  type RateLimitRule,
  RateLimiter,
  RateLimiterLive,
  refusalOf
} from "../../../shared/http/RateLimit.js"
import { Redis } from "../../../shared/layers/Redis.js"
import { encoderOf } from "../../../shared/PlainJson.js"
import { Metrics } from "../../../shared/telemetry/Metrics.js"
import { makePlainSpans, traceparentOf } from "../../../shared/telemetry/PlainSpans.js"
import { parseTraceparent } from "../../../shared/telemetry/TraceContext.js"
import type { Relation } from "../../brain/Api.js"
import { BrainClient } from "../../brain/Client.js"
import type { FacetsView, GarmentRecord } from "../../knowledge/Api.js"
import { KnowledgeClient } from "../../knowledge/Client.js"
import { isCurrent } from "../../knowledge/Keys.js"
import { PolicyClient } from "../../policy/Client.js"
import { IdempotencyConflict, type ScanRequest, ScanResult, type ScansApi } from "./Api.js"
import { type Answer, type CachedRef, type HotEntry, outcomeOf, ScanCache, type ScanRegions } from "./Cache.js"
import { eventHead, eventTailOf, ScanEnqueuer } from "./Enqueue.js"

/** Who scans: no token (anonymous, role public), a verified token's principal, or the 401 its token earned. */
export type ScanCaller = Either.Either<Option.Option<Principal>, Unauthorized>
export const anonymousCaller: ScanCaller = Either.right(Option.none())

export interface ScanInput {
  readonly request: ScanRequest
  /** the bearer token, verified once by whoever took the request (the lane); its session is checked here */
  readonly caller: ScanCaller
  readonly idempotencyKey: string | undefined
  /** the scanner's region from our ingress's geo header, only when it came through trusted hops (Region.ts) */
  readonly geoRegion: string | undefined
  readonly traceparent: string | undefined
}

/** What a scan may fail with: the errors its contract declares (each with its status) and the public rate limit. */
export type ScanError =
  | HttpApiEndpoint.HttpApiEndpoint.Error<HttpApiGroup.HttpApiGroup.Endpoints<typeof ScansApi>>
  | RateLimited

/** A scan's answer: its JSON as sent, and the result it encodes (decoded on demand: the lane only sends the text). */
export interface ScanAnswer {
  readonly json: string
  /** the JSON's UTF-8 length, when known without counting (a cached answer's) */
  readonly bytes?: number
  readonly result: () => ScanResult
}

const Stored = Schema.parseJson(Schema.Struct({ fingerprint: Schema.String, result: ScanResult }))
const decodeResult = Schema.decodeSync(Schema.parseJson(ScanResult))
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
/**
 * A fresh answer's event without its per-scan fields, encoded and serialised once (`eventTailOf`; `eventHead` puts
 * the scan's id, scanner, time and traceparent in front): every field is plain data sent as built (PlainJson.ts; the
 * orchestrator decodes the job). Schema's encode of the whole event was ~5 % of the gateway's allocations in a cold
 * round.
 */
export const ScanEventFields = ScanEvent.pipe(Schema.omit("scanId", "scannerUserId", "scannedAt", "traceparent"))
const encodeEventFields = encoderOf(ScanEventFields)

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

/**
 * The time now as an ISO string, formatted once per millisecond: a warm gateway answers ~20 scans a millisecond and
 * `toISOString` costs ~0.7 µs (measured, Node 24), a share of a cache hit's own work.
 */
let isoMs = -1
let iso = ""
const isoNow = (): string => {
  const ms = Date.now()
  if (ms !== isoMs) {
    isoMs = ms
    iso = new Date(ms).toISOString()
  }
  return iso
}

const answered = (result: ScanResult): ScanAnswer => ({ json: JSON.stringify(result), result: () => result })

/**
 * A kept answer with this scan's id and time spliced in front of its tail: the same bytes as `JSON.stringify` of the
 * result (keys in the same order, the rest serialised once when the answer was built), its result decoded on demand.
 */
const splicedAnswer = (answer: HotEntry, scanId: string, scannedAt: string): ScanAnswer => {
  const head = `{"scanId":"${scanId}","scannedAt":"${scannedAt}",`
  const json = `${head}${answer.tail}`
  // the head is ASCII (a UUID and an ISO time): its length is its byte count
  return { json, bytes: head.length + answer.tailBytes, result: () => decodeResult(json) }
}

/** a garment's view read with its record (knowledge's `resolve`), and the groups it was asked for */
interface Prefetched {
  readonly groups: ReadonlyArray<FacetGroup>
  readonly view: FacetsView
}

/** what building a scan's answer starts from: the garment, the generations read, who scans, and how */
interface FreshScan {
  readonly record: GarmentRecord
  readonly gen: string
  readonly ownerGen: string
  readonly role: Role
  readonly relation: Relation
  readonly regions: ScanRegions
  readonly hint: Intent | undefined
  /** the answer's key under the generations */
  readonly key: string
  readonly prefetched: Prefetched | undefined
  /** the answer another replica shared, when it was read with the generations */
  readonly shared: Option.Option<Answer> | undefined
}

const sameGroups = (a: ReadonlyArray<FacetGroup>, b: ReadonlyArray<FacetGroup>) =>
  a.length === b.length && a.every((g) => b.includes(g))

/** how many (role, hint, regions) the groups last allowed for an ownerless garment are kept for */
const UNOWNED_GROUPS_MAX = 1_000

/**
 * The scan operation: `scan(input, rules)`. Its first Redis round trip checks the caller's rate-limit
 * `rules` (batched with every request of this event-loop turn) and reads the generations of a garment
 * whose tag it has seen. The cache-hit branch — anonymous, no Idempotency-Key, tag, garment and answer
 * all cached and current — answers from there: the answer's JSON is spliced, the event is enqueued.
 * Anything else (a miss, a stale generation, a token, a key, Redis down: fail open) runs the full scan:
 * one MGET for the session and idempotency key, the garment from knowledge, the answer from brain and
 * policy, the idempotency record, the enqueue. Both branches give the same answer and event, and neither
 * runs an Effect fiber: plain promises and the clients' `plain` calls, the full scan in a `Gateway.scan`
 * span of its own (PlainSpans), because a fiber and its steps cost more CPU than a cold scan's own work.
 */
export class Scans extends Effect.Service<Scans>()("brandme/gateway/Scans", {
  dependencies: [ScanEnqueuer.Default, ScanCache.Default, RateLimiterLive],
  effect: Effect.gen(function* () {
    const brain = yield* BrainClient
    const policy = yield* PolicyClient
    const knowledge = yield* KnowledgeClient
    const enqueuer = yield* ScanEnqueuer
    const cache = yield* ScanCache
    const redis = yield* Redis
    const limiter = yield* RateLimiter
    const raw = yield* Effect.orDie(redis.cache)
    const metrics = yield* Effect.serviceOption(Metrics)
    const spans = yield* makePlainSpans

    // label sets built once (a cache hit records three metrics per scan)
    const cacheLabels = { hit: { cache: "scan_answer", result: "hit" }, miss: { cache: "scan_answer", result: "miss" } }
    const scanLabels = new Map<string, { total: Record<string, string>; duration: Record<string, string> }>()
    const countCache = (result: "hit" | "miss") => {
      if (Option.isSome(metrics)) metrics.value.m.cacheRequestsTotal.inc(cacheLabels[result])
    }
    const countScan = (answer: HotEntry, t0: number) => {
      if (Option.isNone(metrics)) return
      const k = `${answer.intent}|${answer.outcome}`
      let labels = scanLabels.get(k)
      if (labels === undefined) {
        labels = { total: { intent: answer.intent, decision: answer.outcome }, duration: { intent: answer.intent } }
        scanLabels.set(k, labels)
      }
      metrics.value.m.scansTotal.inc(labels.total)
      metrics.value.m.scanDuration.observe(labels.duration, (performance.now() - t0) / 1000)
    }
    /** a refused request: its 429, counted in brandme_rate_limited_total */
    const refused = (decision: Parameters<typeof refusalOf>[0]): RateLimited => {
      const e = refusalOf(decision)
      if (Option.isSome(metrics))
        metrics.value.m.rateLimitedTotal.inc({ service: metrics.value.service, limit: e.limit })
      return e
    }

    /**
     * The groups policy last allowed for a garment without an owner, per (role, hint, regions), for a caller
     * whose relation to such a garment is "none" whatever the garment (anyone but brand staff, whose relation
     * depends on the garment's brand: `unownedKey` gives them none): a decision
     * about an ownerless garment does not depend on which garment it is, so the view can be asked for with
     * the tag's resolve. A guess only: the view is used when the decision made for this scan allows exactly
     * these groups, else it is asked for as before.
     */
    const unownedGroups = new Map<string, ReadonlyArray<FacetGroup>>()
    const unownedKey = (role: Role, hint: Intent | undefined, regions: ScanRegions) =>
      role === "brand" ? undefined : `${role}|${hint ?? ""}|${regions.scanner ?? "?"}|${regions.claimed ?? "-"}`

    /** the answer built fresh (or another replica's), kept for the next scans */
    const freshEntry = async (f: FreshScan, span: Tracer.Span): Promise<Either.Either<HotEntry, ScanError>> => {
      const { record, gen, ownerGen, role, relation, regions, hint, key, prefetched } = f
      const shared = f.shared ?? (await cache.sharedAnswer(key))
      let fresh: Answer
      if (Option.isSome(shared)) {
        fresh = shared.value
      } else {
        const intent = await brain.plain.resolveIntent(
          { role, relation, ...(hint !== undefined ? { hint } : {}) },
          span
        )
        if (Either.isLeft(intent)) return Either.left(intent.left)
        const decision = await policy.plain.decide(
          {
            garmentId: record.id,
            ownerUserId: record.ownerUserId,
            role,
            relation,
            intent: intent.right,
            scannerRegion: regions.scanner,
            claimedRegion: regions.claimed,
            // the owner's generation this scan read: policy keeps its decision under it without reading it again
            ...(record.ownerUserId !== null ? { ownerGeneration: ownerGen } : {})
          },
          span
        )
        if (Either.isLeft(decision)) return Either.left(decision.left)
        const groups = decision.right.allowed.map((a) => a.group)
        const guessKey = record.ownerUserId === null ? unownedKey(role, hint, regions) : undefined
        if (guessKey !== undefined) {
          if (unownedGroups.size >= UNOWNED_GROUPS_MAX) unownedGroups.clear()
          unownedGroups.set(guessKey, groups)
        }
        // knowledge sends a view only for a garment without an owner
        let facets: FacetsView
        if (prefetched !== undefined && sameGroups(groups, prefetched.groups)) {
          facets = prefetched.view
        } else {
          const view = await knowledge.plain.view(record.id, groups, gen, span)
          if (Either.isLeft(view)) return Either.left(view.left)
          facets = view.right
        }
        fresh = { intent: intent.right, decision: decision.right, facets }
        cache.share(key, fresh)
      }
      const region = recordedRegion(regions)
      const eventFields = Either.getOrThrow(
        encodeEventFields({
          garmentId: record.id,
          deviceId: null,
          role,
          intent: fresh.intent,
          regionCode: region,
          decision: fresh.decision
        })
      )
      const tail = JSON.stringify(bodyOf(record, fresh, region)).slice(1)
      const entry: HotEntry = {
        intent: fresh.intent,
        outcome: outcomeOf(fresh.decision),
        policyVersion: fresh.decision.policyVersion,
        ownerUserId: record.ownerUserId,
        garmentId: record.id,
        eventTail: eventTailOf(eventFields),
        tail,
        tailBytes: Buffer.byteLength(tail)
      }
      cache.keep(key, entry)
      return Either.right(entry)
    }

    /** a stored answer for an Idempotency-Key: the same request's result again, or a conflict */
    const replay = (stored: string, fingerprint: string, key: string | undefined): Exit.Exit<ScanAnswer, ScanError> => {
      const s = Schema.decodeUnknownOption(Stored)(stored)
      if (Option.isNone(s) || s.value.fingerprint !== fingerprint) {
        return Exit.fail(
          new IdempotencyConflict({ message: `Idempotency-Key "${key}" was already used for a different scan request` })
        )
      }
      return Exit.succeed(answered(s.value.result))
    }

    /**
     * The garment from knowledge and its generations, read after it. A record whose version is below the
     * generation was read before a change that is already announced (knowledge/Keys.ts): it is read again,
     * once; one still behind (the generation ahead of every committed version: not written by our writers)
     * answers this scan but is not kept.
     *
     * A garment without an owner whose view came with it, and whose generation knowledge read with it (`generation`),
     * needs no second read: no owner's generation to read, and its answer is built from the view, the intent and the
     * decision about an ownerless garment that the brain and policy clients keep — no call out in the usual case —
     * rather than looked up among the answers other replicas shared (a Redis round trip; the answer built is still
     * shared for them). Since 7 December (night): one round trip fewer on most cold scans.
     */
    const resolveCurrent = async (
      ref: TagRef,
      groups: ReadonlyArray<FacetGroup> | undefined,
      keyParts: (record: GarmentRecord) => { readonly head: string; readonly tail: string },
      span: Tracer.Span
    ) => {
      for (let attempt = 1; ; attempt++) {
        const resolved = await knowledge.plain.resolve(ref, groups, span)
        if (Either.isLeft(resolved)) return Either.left(resolved.left)
        const { view, generation, ...record } = resolved.right
        const prefetched: Prefetched | undefined =
          view === undefined || groups === undefined ? undefined : { groups, view }
        // with the generations (the garment's as knowledge read it, when it did), the answer another replica shared
        // under them (one round trip), unless knowledge's generation and view are all the answer needs
        const { gen, ownerGen, shared } =
          generation !== undefined && record.ownerUserId === null && prefetched !== undefined
            ? { gen: generation, ownerGen: null, shared: Option.none<Answer>() }
            : await cache.generationsAndShared(record, keyParts(record), generation)
        const current = isCurrent(record.version, gen)
        if (current || attempt >= 2) {
          return Either.right({ record, prefetched, gen: gen ?? "0", ownerGen: ownerGen ?? "0", current, shared })
        }
      }
    }

    /**
     * The full scan: everything the cache-hit branch could not answer, in `span` (Gateway.scan). Plain
     * promises, no fiber: Effect's fiber and steps cost more CPU than a cold scan's own work (docs/scan-bench.md);
     * each step's typed error ends the scan as the Exit the lane answers.
     */
    const full = async (
      input: ScanInput,
      t0: number,
      span: Tracer.Span,
      preread: ReadonlyMap<string, string | null> | undefined
    ): Promise<Exit.Exit<ScanAnswer, ScanError>> => {
      const ref = cache.parsed(input.request.tag)
      if (Either.isLeft(ref)) return Exit.fail(ref.left)
      if (Either.isLeft(input.caller)) return Exit.fail(input.caller.left)
      const principal = Option.getOrUndefined(input.caller.right)
      const regions = regionsOf(input)
      const hint = input.request.context?.intent
      const refKey = tagKey(ref.right)
      const fingerprint = `${refKey}|${regions.scanner ?? "?"}|${regions.claimed ?? "-"}|${hint ?? ""}`
      const idemKey =
        input.idempotencyKey === undefined
          ? undefined
          : `gateway:idem:${principal?.userId ?? "anonymous"}:${input.idempotencyKey}`

      // one round trip for everything a scan must read fresh
      let cached = cache.ref(refKey)
      const keys = cache.generationKeys(cached)
      const sessionAt = principal === undefined ? -1 : keys.push(sessionKey(principal.sessionId)) - 1
      const idemAt = idemKey === undefined ? -1 : keys.push(idemKey) - 1
      // read in the admission's round trip when it could be (scan, below); else one MGET now
      const values =
        preread !== undefined && keys.every((k) => preread.has(k))
          ? keys.map((k) => preread.get(k) ?? null)
          : await cache.mget(keys)
      if (principal !== undefined && !sessionHolds(values[sessionAt], principal)) {
        return Exit.fail(new Unauthorized({ message: "session has ended: sign in again" }))
      }
      if (idemAt >= 0) {
        const stored = values[idemAt]
        if (stored != null) return replay(stored, fingerprint, input.idempotencyKey)
      }
      let ownerGen = cached?.record.ownerUserId != null ? (values[1] ?? "0") : "0"
      let prefetched: Prefetched | undefined
      // the shared answer, when it was read with the generations (a freshly resolved garment)
      let shared: Option.Option<Answer> | undefined
      const role: Role = principal?.role ?? "public"
      if (cached === undefined || cached.gen !== (values[0] ?? "0")) {
        const guessKey = unownedKey(role, hint, regions)
        const groups = guessKey === undefined ? undefined : unownedGroups.get(guessKey)
        const keyParts = (r: GarmentRecord) => cache.answerKeyParts(r.id, role, relationOf(principal, r), regions, hint)
        const fresh = await resolveCurrent(ref.right, groups, keyParts, span)
        if (Either.isLeft(fresh)) return Exit.fail(fresh.left)
        cached = { record: fresh.right.record, gen: fresh.right.gen }
        ownerGen = fresh.right.ownerGen
        prefetched = fresh.right.prefetched
        shared = fresh.right.shared
        if (fresh.right.current) cache.rememberRef(refKey, cached)
      }
      const record = cached.record
      const relation = relationOf(principal, record)
      const key = cache.answerKey(record.id, cached.gen, ownerGen, role, relation, regions, hint)
      const hit = cache.hotAnswer(key)
      countCache(hit === undefined ? "miss" : "hit")
      let answer = hit
      if (answer === undefined) {
        const built = await freshEntry(
          { record, gen: cached.gen, ownerGen, role, relation, regions, hint, key, prefetched, shared },
          span
        )
        if (Either.isLeft(built)) return Exit.fail(built.left)
        answer = built.right
      }
      const scanId = randomUUID()
      const scannedAt = isoNow()
      const spliced = splicedAnswer(answer, scanId, scannedAt)
      if (idemKey !== undefined) {
        const won = await raw
          .set(
            redis.key(idemKey),
            Schema.encodeSync(Stored)({ fingerprint, result: spliced.result() }),
            "EX",
            IDEMPOTENCY_TTL_SECONDS,
            "NX"
          )
          .catch(() => "OK" as const)
        if (won !== "OK") {
          const stored = await raw.get(redis.key(idemKey)).catch(() => null)
          if (stored !== null) return replay(stored, fingerprint, input.idempotencyKey)
        }
      }
      // the event carries this scan's span so the orchestrator's work joins the same trace
      const error = await enqueuer.enqueuePromise(
        eventHead(scanId, principal?.userId ?? null, scannedAt, traceparentOf(span) ?? input.traceparent),
        answer.eventTail
      )
      if (error !== undefined) {
        if (idemKey !== undefined) await raw.del(redis.key(idemKey)).catch(() => 0)
        return Exit.fail(enqueuer.queueUnavailable(error))
      }
      countScan(answer, t0)
      return Exit.succeed(spliced)
    }

    /** the cache-hit branch: the answer if tag, garment and answer are cached and current, else undefined */
    const hitOf = (input: ScanInput, cached: CachedRef, values: ReadonlyArray<string | null>, t0: number) => {
      if ((values[0] ?? "0") !== cached.gen) return undefined
      const record = cached.record
      const ownerGen = record.ownerUserId === null ? "0" : (values[1] ?? "0")
      const hint = input.request.context?.intent
      const answer = cache.hotAnswer(
        cache.answerKey(record.id, cached.gen, ownerGen, "public", "none", regionsOf(input), hint)
      )
      if (answer === undefined) return undefined
      countCache("hit")
      const scanId = randomUUID()
      const scannedAt = isoNow()
      return enqueuer
        .enqueuePromise(eventHead(scanId, null, scannedAt, input.traceparent), answer.eventTail)
        .then((error) => {
          if (error !== undefined) return Exit.fail(enqueuer.queueUnavailable(error))
          countScan(answer, t0)
          return Exit.succeed(splicedAnswer(answer, scanId, scannedAt))
        })
    }

    /** one scan is one trace: the full scan's server span continues the caller's traceparent */
    const runFullScan = (
      input: ScanInput,
      t0: number,
      preread?: ReadonlyMap<string, string | null>
    ): Promise<Exit.Exit<ScanAnswer, ScanError>> => {
      const parent = parseTraceparent(input.traceparent)
      const span = spans.start(
        "Gateway.scan",
        Option.isSome(parent) ? Tracer.externalSpan(parent.value) : undefined,
        "server"
      )
      const ended = (exit: Exit.Exit<ScanAnswer, ScanError>) => {
        spans.end(span, exit)
        return exit
      }
      return full(input, t0, span, preread).then(ended, (defect: unknown) => ended(Exit.die(defect)))
    }

    /**
     * One scan. `rules`: the rate limits to admit the request by (checked in the first round trip; empty
     * when the caller admitted it already). `t0`: when the request arrived (scan duration metric).
     */
    const scan = (
      input: ScanInput,
      rules: ReadonlyArray<RateLimitRule>,
      t0: number = performance.now()
    ): Promise<Exit.Exit<ScanAnswer, ScanError>> => {
      const principal = Either.isRight(input.caller) ? Option.getOrUndefined(input.caller.right) : undefined
      const branchable = Either.isRight(input.caller) && principal === undefined && input.idempotencyKey === undefined
      // what the full scan reads fresh (the garment's generations, the session), read with the admission: a
      // scan the branch cannot answer, or a signed-in one, then makes no second round trip for them
      const cached = cache.refOfTag(input.request.tag)
      const reads = cache.generationKeys(cached)
      if (principal !== undefined) reads.push(sessionKey(principal.sessionId))
      if (rules.length === 0 && reads.length === 0) return runFullScan(input, t0)
      return limiter.checkAndRead(rules, reads).then(
        ({ decision, values }) => {
          if (!decision.allowed) return Exit.fail(refused(decision))
          const hit = branchable && cached !== undefined ? hitOf(input, cached, values, t0) : undefined
          return hit ?? runFullScan(input, t0, new Map(reads.map((k, i) => [k, values[i] ?? null])))
        },
        // Redis failed the check: fail open, the full scan reads for itself
        () => runFullScan(input, t0)
      )
    }

    return {
      scan,
      /** for tests: how many answers this replica holds */
      hotSize: cache.hotSize
    }
  })
}) {}
