import { Effect, Either, Option, Schema } from "effect"
import { AppConfig } from "../../../shared/config/AppConfig.js"
import { parseTag, tagKey } from "../../../shared/domain/DigitalLink.js"
import { Decision, Intent, type Role } from "../../../shared/domain/Scan.js"
import { luaScript, runScript } from "../../../shared/layers/LuaScript.js"
import { Redis } from "../../../shared/layers/Redis.js"
import { Doorkeeper } from "../../../shared/Doorkeeper.js"
import { Lru } from "../../../shared/Lru.js"
import { jsonEncoderOf } from "../../../shared/PlainJson.js"
import type { Relation } from "../../brain/Api.js"
import { FacetsView, type GarmentRecord } from "../../knowledge/Api.js"
import { garmentGenerationKey } from "../../knowledge/Keys.js"
import { ownerGenerationKey } from "../../policy/Keys.js"
import { policySettingsOf, policyVersion } from "../../policy/Port.js"
import { subscribeInvalidations } from "../Invalidation.js"

/** What a scan of one garment shows one kind of scanner; cached whole. */
export const Answer = Schema.Struct({ intent: Intent, decision: Decision, facets: FacetsView })
export type Answer = typeof Answer.Type
const AnswerJson = Schema.parseJson(Answer)
const answerJson = jsonEncoderOf(Answer)

/**
 * A garment's generation, its owner's (KEYS[2], when it has one) and the answer shared under them: the answer's
 * key is ARGV[1] .. generation .. "|" .. owner's generation .. ARGV[2] (`answerKeyParts`), built from the
 * generations read here, so a freshly resolved garment costs one round trip, not an MGET and then a GET. A garment
 * generation the caller already holds (ARGV[3]: knowledge read it with the record) is used as it is, not read again.
 * Its third key is not declared: the cache Redis is not a cluster (its MGETs and the rate limiter's script read keys
 * of any slot together already).
 */
export const GENERATIONS_AND_ANSWER_LUA = `
local g = ARGV[3]
if g == nil then g = redis.call('GET', KEYS[1]) end
local o = false
if #KEYS > 1 then o = redis.call('GET', KEYS[2]) end
return {g, o, redis.call('GET', ARGV[1] .. (g or '0') .. '|' .. (o or '0') .. ARGV[2])}`
const GENERATIONS_AND_ANSWER = luaScript(GENERATIONS_AND_ANSWER_LUA)

const HOT_TTL_MS = 60_000
const ANSWER_TTL_SECONDS = 5 * 60 // bounded by the policy decision TTL

/**
 * The in-process caches live in the gateway pod's heap (`--max-old-space-size=96`, ServiceCatalog), ~31 MB of it
 * the process itself. Measured (Node 24, an answer of every facet group as the cold bench's catalogue has them):
 * a kept answer took ~5 KB of heap with its objects, 3.7 × its JSON tail, and ~3.5 KB, 2.9 × a 1.2 KB tail, as
 * text alone (`HotEntry`, since 7 December night: 20,000 entries in this Lru, `heapUsed` after a full GC); a
 * resolved tag ~0.5 KB. Sized by count, 50,000 answers would need ~175–250 MB: the cold bench's gateway reached a
 * ~68 MB live heap after ~25,000 cold scans and spent half its time in mark-compacts. So answers are bounded by
 * their weight — ANSWER_CACHE_BYTES, weighed as 4 × the tail (~1,700 answers, ~6 MB of heap as text) — and tags by
 * count (REF_CACHE_ENTRIES resolved tags ~8 MB, as many parsed tags ~5 MB): ~19 MB at most, a live heap under ~60 MB.
 * Every MB kept costs marking time as well as room: in the cold bench (`--trace-gc`, 7 December night) the gateway
 * ran a mark-compact each time its heap reached ~1.3 × what the last one left live (~58 MB after ~45), about once a
 * second. An answer that falls out is still in Redis (the shared answer) for ANSWER_TTL_SECONDS: a miss here costs one GET, not a rebuild.
 *
 * Since 8 December an answer is kept only when it is built a second time within the last HOT_ADMISSION_WINDOW builds
 * (a doorkeeper, `shared/Doorkeeper.ts`): under the cold bench's Zipf load most answers are built once, and kept
 * they pushed out answers asked for again and died in the old generation. With it the cold bench's gateway built
 * 48.5–49.8 % of its answers afresh with 8 or 12 MB, against 51.5–51.6 % with 12 MB and none, and (with 12 MB)
 * promoted ~20 % less and ran a quarter fewer mark-compacts (docs/scan-bench.md, "Figures (8 December 2026, early
 * morning …)"); so the budget is 8 MB.
 */
const ANSWER_CACHE_BYTES = 8 * 1024 * 1024
/** the doorkeeper's memory, in answers built (~60 × the answers the budget holds; its bits 128 KB) */
const HOT_ADMISSION_WINDOW = 100_000
const ANSWER_WEIGHT_PER_CHAR = 4
const HOT_MAX_ENTRIES = 50_000
const REF_CACHE_ENTRIES = 16_000

/** how much of what was asked a decision shows: every group, some, or none (the scans metric's `decision` label) */
export type Outcome = "full" | "partial" | "denied"
export const outcomeOf = (d: Decision): Outcome =>
  d.denied.length === 0 ? "full" : d.allowed.length === 0 ? "denied" : "partial"

/**
 * A kept answer, as text: the answer's JSON after its scan id and time, and its scan event's JSON after its per-scan
 * fields (`Enqueue.ts`'s `eventHead`), each built once by `Schema.encode` and `JSON.stringify` and spliced per scan
 * (encoding and serialising cost more than the rest of a warm scan; scanId, scanner, time and traceparent are plain
 * strings in both the decoded and encoded forms). Only the scalars a scan still needs are kept beside them, not the
 * answer's objects: a kept answer was ~5 KB of heap with them (its facets' object graph), ~2.2 KB without, and every
 * one a cold round keeps is promoted to the old generation and marked by each mark-compact until it falls out.
 */
export interface HotEntry {
  readonly intent: Intent
  readonly outcome: Outcome
  /** the rules' version the decision was made under (only our version's answers are kept) */
  readonly policyVersion: string
  readonly ownerUserId: string | null
  readonly garmentId: string
  /** the encoded event's JSON after its per-scan fields (scanId, scannerUserId, scannedAt, traceparent) */
  readonly eventTail: string
  /** the answer's JSON after scanId and scannedAt (a scan splices those in, no re-serialising) */
  readonly tail: string
  /** the tail's UTF-8 length (the answer's Content-Length without counting it per scan) */
  readonly tailBytes: number
}

/** What the regime of a scan is drawn from: the edge's region (trusted) and the client's claim (stricter only). */
export interface ScanRegions {
  readonly scanner: string | null
  readonly claimed: string | null
}

/** A tag's garment as last resolved, with the garment generation it was read at. */
export interface CachedRef {
  readonly record: GarmentRecord
  readonly gen: string
}

/**
 * The scan path's caches. In process: parsed tags, the garment a tag names (with its generation) and the
 * whole answer per (garment, its generation, owner's consent generation, role, relation, regions, hint);
 * in Redis, the answers for other replicas. A consent change or garment update bumps a generation in Redis
 * first, so the next scan anywhere builds a new key; NATS facts free old entries here.
 */
export class ScanCache extends Effect.Service<ScanCache>()("brandme/gateway/ScanCache", {
  scoped: Effect.gen(function* () {
    const redis = yield* Redis
    const raw = yield* Effect.orDie(redis.cache)
    const version = policyVersion(policySettingsOf(yield* AppConfig))
    const refs = new Lru<string, CachedRef>(REF_CACHE_ENTRIES, 60 * 60_000)
    const tags = new Lru<string, ReturnType<typeof parseTag>>(REF_CACHE_ENTRIES, 10 * 60_000)
    const hot = new Lru<string, HotEntry>(HOT_MAX_ENTRIES, HOT_TTL_MS, {
      maxWeight: ANSWER_CACHE_BYTES,
      // (the event's text is not weighed: it replaced the encoded event object the entry held, at less memory)
      weigh: (e) => ANSWER_WEIGHT_PER_CHAR * e.tail.length
    })
    yield* Effect.forkScoped(
      subscribeInvalidations({
        owner: (owner) => hot.deleteWhere((_, v) => v.ownerUserId === owner),
        garment: (id) => {
          hot.deleteWhere((_, v) => v.garmentId === id)
          refs.deleteWhere((_, v) => v.record.id === id)
        }
      }).pipe(Effect.catchAll((e) => Effect.logWarning(`cache invalidation subscription failed: ${String(e)}`)))
    )

    /** a tag parsed (memoised: the same tags are scanned again and again) */
    const parsed = (tag: string) => {
      let p = tags.get(tag)
      if (p === undefined) {
        p = parseTag(tag)
        tags.set(tag, p)
      }
      return p
    }

    /** the garment of a tag parsed before, without parsing (the cache-hit branch) */
    const refOfTag = (tag: string): CachedRef | undefined => {
      const p = tags.get(tag)
      return p === undefined || Either.isLeft(p) ? undefined : refs.get(tagKey(p.right))
    }

    /** a garment's generation key and, when it has an owner, the owner's consent generation key */
    const recordGenerationKeys = (record: GarmentRecord): Array<string> =>
      record.ownerUserId === null
        ? [garmentGenerationKey(record.id)]
        : [garmentGenerationKey(record.id), ownerGenerationKey(record.ownerUserId)]
    /** the generations to read for a cached garment (none without one) */
    const generationKeys = (cached: CachedRef | undefined): Array<string> =>
      cached === undefined ? [] : recordGenerationKeys(cached.record)
    /** where an answer is shared with the other replicas, and how it is read back */
    const sharedKey = (key: string) => redis.key(`gateway:answer:${key}`)
    const decodeShared = (text: string) => Schema.decodeUnknownOption(AnswerJson)(text)

    /** an answer's key around its two generations (`answerKey` is head + gen + "|" + ownerGen + tail) */
    const answerKeyParts = (id: string, role: Role, rel: Relation, regions: ScanRegions, hint?: Intent) => ({
      head: `${version}|${id}|`,
      tail: `|${role}|${rel}|${regions.scanner ?? "?"}|${regions.claimed ?? "-"}|${hint ?? ""}`
    })
    const answerKey = (
      id: string,
      gen: string,
      ownerGen: string,
      role: Role,
      rel: Relation,
      regions: ScanRegions,
      hint?: Intent
    ) => {
      // everything the answer depends on: the rules' version, the garment's and owner's generations (the
      // owner's covers their consents and jurisdiction), who asks, both regions and the hint
      const { head, tail } = answerKeyParts(id, role, rel, regions, hint)
      return `${head}${gen}|${ownerGen}${tail}`
    }

    /** values of Redis keys (unprefixed) in one round trip; Redis down reads as all absent */
    const mget = (keys: ReadonlyArray<string>): Promise<ReadonlyArray<string | null>> =>
      keys.length === 0 ? Promise.resolve([]) : raw.mget(...keys.map(redis.key)).catch(() => keys.map(() => null))

    /** another replica's answer for this key (Redis), if it holds one; Redis down reads as none */
    const sharedAnswer = (key: string): Promise<Option.Option<Answer>> =>
      raw.get(sharedKey(key)).then(
        (l2) => (l2 === null ? Option.none<Answer>() : decodeShared(l2)),
        () => Option.none<Answer>()
      )

    /**
     * A resolved garment's generations and the answer shared under them, in one round trip
     * (GENERATIONS_AND_ANSWER_LUA); the garment's generation is read only when `gen` (the one knowledge read with the
     * record) is not given. Redis down reads as nothing there, as `mget` and `sharedAnswer` do.
     */
    const generationsAndShared = (
      record: GarmentRecord,
      parts: { readonly head: string; readonly tail: string },
      gen?: string
    ): Promise<{ gen: string | null; ownerGen: string | null; shared: Option.Option<Answer> }> => {
      const keys = recordGenerationKeys(record).map(redis.key)
      const args = gen === undefined ? [sharedKey(parts.head), parts.tail] : [sharedKey(parts.head), parts.tail, gen]
      return runScript(raw, GENERATIONS_AND_ANSWER, keys, args).then(
        (reply) => {
          const [g, o, a] = Array.isArray(reply) ? reply : []
          return {
            gen: typeof g === "string" ? g : null,
            ownerGen: typeof o === "string" ? o : null,
            shared: typeof a === "string" ? decodeShared(a) : Option.none<Answer>()
          }
        },
        () => ({ gen: gen ?? null, ownerGen: null, shared: Option.none<Answer>() })
      )
    }

    /**
     * A fresh answer for every replica (Redis), sent without waiting for the reply (no scan's answer depends on
     * it); a decision of another rules version is never cached under ours.
     */
    const share = (key: string, answer: Answer): void => {
      if (answer.decision.policyVersion !== version) return
      raw.set(sharedKey(key), answerJson(answer), "EX", ANSWER_TTL_SECONDS).catch(() => undefined)
    }

    /** answers built lately, by key: one is kept on its second build (ANSWER_CACHE_BYTES) */
    const admitted = new Doorkeeper(HOT_ADMISSION_WINDOW)
    /** an answer for this replica's next scans, once it was built before (same rule: our rules version only) */
    const keep = (key: string, entry: HotEntry) => {
      if (entry.policyVersion === version && admitted.offer(key)) hot.set(key, entry)
    }

    return {
      version,
      parsed,
      refOfTag,
      ref: (refKey: string) => refs.get(refKey),
      rememberRef: (refKey: string, ref: CachedRef) => refs.set(refKey, ref),
      generationKeys,
      answerKeyParts,
      answerKey,
      generationsAndShared,
      hotAnswer: (key: string) => hot.get(key),
      mget,
      sharedAnswer,
      share,
      keep,
      /** for tests: how many answers this replica holds */
      hotSize: () => hot.size
    }
  })
}) {}
