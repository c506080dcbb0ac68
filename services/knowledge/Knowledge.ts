import { Effect, Either, Option, Redacted, Schema } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { masterKeyBytes, open, unwrapSubjectKey } from "../../shared/crypto/Pii.js"
import type { TagRef } from "../../shared/domain/DigitalLink.js"
import { validateGtin } from "../../shared/domain/Gtin.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { parseErrorBody } from "../../shared/http/Validation.js"
import { Redis } from "../../shared/layers/Redis.js"
import { publishFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"
import {
  DuplicateGarment,
  FacetsView,
  type Garment,
  Garment as GarmentSchema,
  GarmentCreate,
  GarmentNotFound,
  type GarmentPatch,
  type GarmentRecord,
  type ImportResult,
  InvalidGarment,
  VersionConflict
} from "./Api.js"
import { garmentGenerationKey, garmentMetadataKey, garmentRefKey, isCurrent, raiseGeneration } from "./Keys.js"
import { GarmentRepo, type OwnershipRow } from "./Repo.js"

const HOUR = 60 * 60
const GarmentJson = Schema.parseJson(GarmentSchema)
const ViewJson = Schema.parseJson(FacetsView)
const PRODUCT_GROUPS = ["materials", "origin", "supply_chain", "care", "certifications"] as const

const recordOf = (g: Garment): GarmentRecord => ({
  id: g.id,
  brandId: g.brandId,
  name: g.name,
  gtin: g.gtin,
  serial: g.serial,
  batch: g.batch,
  ownerUserId: g.ownerUserId,
  version: g.version
})

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A garment's facets as a decision allowing `allowed` shows them, but its owner's identity (a lookup of its own):
 * the product groups the garment has and, if allowed, its ownership history (`rows`, oldest first) — with the
 * parties' ids only when the owner's identity is allowed too.
 */
const viewOf = (
  g: Garment,
  allowed: ReadonlyArray<FacetGroup>,
  rows: ReadonlyArray<OwnershipRow>
): Mutable<FacetsView> => {
  const out: Mutable<FacetsView> = {}
  for (const group of PRODUCT_GROUPS) {
    const value = g.facets[group]
    if (allowed.includes(group) && value !== undefined) Object.assign(out, { [group]: value })
  }
  const identify = allowed.includes("owner_identity")
  if (allowed.includes("ownership_history")) {
    out.ownership_history = rows.map((r) => ({
      kind: r.kind,
      at: r.created_at.toISOString(),
      ...(identify ? { fromUserId: r.from_user_id, toUserId: r.to_user_id } : {})
    }))
  }
  return out
}

/** Brand staff write their own brand's garments; admins any brand. */
const mayWrite = (p: Principal, brandId: string) =>
  p.role === "admin" || (p.role === "brand" && p.brandId === brandId)
    ? Effect.void
    : Effect.fail(
        new Forbidden({
          message:
            p.role === "brand"
              ? "brand staff may only change their own brand's garments"
              : `role ${p.role} cannot change garments`
        })
      )

/** The garment's brand, auditors and admins read everything about it (its owner reads the garment only). */
export const mayRead = (p: Principal, brandId: string) =>
  p.role === "admin" || p.role === "auditor" || (p.role === "brand" && p.brandId === brandId)

/**
 * Knowledge: garments and their facets. Garment metadata is cached 1 h in Redis; a scan's facet view
 * is cached 1 h per garment × allowed groups under the garment's generation, which an update increments
 * (and announces on NATS) so no replica serves the old facets again.
 */
export class Knowledge extends Effect.Service<Knowledge>()("brandme/Knowledge", {
  dependencies: [GarmentRepo.Default],
  effect: Effect.gen(function* () {
    const repo = yield* GarmentRepo
    const redis = yield* Redis
    const config = yield* AppConfig
    const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
    const cacheGet = (k: string) => Effect.orElseSucceed(redis.get(k), () => null)
    const cacheSet = (k: string, v: string) => Effect.ignore(redis.set(k, v, HOUR))
    /** several entries in one round trip (a pipeline); one by one where the client has no pipelines (tests) */
    const cacheSetMany = (entries: ReadonlyArray<readonly [string, string]>) =>
      Effect.matchEffect(redis.cache, {
        onFailure: () => Effect.forEach(entries, ([k, v]) => cacheSet(k, v), { discard: true }),
        onSuccess: (raw) =>
          Effect.ignore(
            Effect.tryPromise(() =>
              entries.reduce((p, [k, v]) => p.set(redis.key(k), v, "EX", HOUR), raw.pipeline()).exec()
            )
          )
      })

    /** several entries in one round trip (MGET); one by one where the client has none (tests); null when down */
    const cacheGetMany = (keys: ReadonlyArray<string>) =>
      Effect.matchEffect(redis.cache, {
        onFailure: () => Effect.forEach(keys, cacheGet),
        onSuccess: (raw) =>
          Effect.tryPromise(() => raw.mget(...keys.map(redis.key))).pipe(
            Effect.orElseSucceed(() => keys.map(() => null))
          )
      })

    /**
     * The garment, from the cache when the entry is current: its version at least the generation read in the
     * same round trip (Keys.ts) — an entry written late by a reader that read the row before a change is
     * never served after the change is announced.
     */
    const metadata = (id: string) =>
      Effect.gen(function* () {
        const [gen, hit] = yield* cacheGetMany([garmentGenerationKey(id), garmentMetadataKey(id)])
        const decoded = hit == null ? Option.none() : Schema.decodeUnknownOption(GarmentJson)(hit)
        if (Option.isSome(decoded) && isCurrent(decoded.value.version, gen)) return decoded.value
        const g = yield* repo.byId(id)
        if (Option.isNone(g)) return yield* new GarmentNotFound({ message: `no garment with id ${id}` })
        yield* cacheSet(garmentMetadataKey(id), Schema.encodeSync(GarmentJson)(g.value))
        return g.value
      })

    /** the garment a tag names, from the cache when current (Keys.ts), else from Postgres (both entries cached) */
    const garmentOf = (ref: TagRef) =>
      Effect.gen(function* () {
        if (ref._tag === "GarmentId") return yield* metadata(ref.id)
        const idHit = yield* cacheGet(garmentRefKey(ref.gtin, ref.serial))
        if (idHit !== null) {
          const g = yield* Effect.either(metadata(idHit))
          if (Either.isRight(g)) return g.right
        }
        const g = yield* repo.byKey(ref.gtin, ref.serial)
        if (Option.isNone(g)) {
          return yield* new GarmentNotFound({ message: `no garment with GTIN ${ref.gtin} and serial ${ref.serial}` })
        }
        // both entries in one round trip (a view that follows reads the metadata)
        yield* cacheSetMany([
          [garmentRefKey(ref.gtin, ref.serial), g.value.id],
          [garmentMetadataKey(g.value.id), Schema.encodeSync(GarmentJson)(g.value)]
        ])
        return g.value
      })

    /**
     * The garment a tag names and, when `viewGroups` is given and the garment has no owner, its view of those
     * groups, built from the same read of the garment (the history is queried after it, as `view` does).
     */
    const resolve = (ref: TagRef, viewGroups?: ReadonlyArray<FacetGroup>) =>
      Effect.gen(function* () {
        const g = yield* garmentOf(ref)
        const record = recordOf(g)
        if (viewGroups === undefined || g.ownerUserId !== null) return record
        const rows = viewGroups.includes("ownership_history") ? yield* repo.history(g.id) : []
        return { ...record, view: viewOf(g, viewGroups, rows) }
      }).pipe(Effect.withSpan("Knowledge.resolve", { captureStackTrace: false }))

    const ownerIdentity = (userId: string) =>
      Effect.map(repo.owner(userId), (row) => {
        const name = Option.flatMap(row, (r) => {
          if (r.key === null || r.display_name_sealed === null) return Option.none()
          const key = unwrapSubjectKey(master, r.key)
          const plain = key === undefined ? undefined : open(key, r.display_name_sealed)
          return Option.fromNullable(plain?.toString("utf8"))
        })
        return { userId, displayName: Option.getOrNull(name) }
      })

    const view = (garmentId: string, allowed: ReadonlyArray<FacetGroup>) =>
      Effect.gen(function* () {
        const gen = (yield* cacheGet(garmentGenerationKey(garmentId))) ?? "0"
        const key = `knowledge:view:${garmentId}:${gen}:${[...allowed].sort().join(",")}`
        const hit = yield* cacheGet(key)
        const decoded = hit === null ? Option.none() : Schema.decodeUnknownOption(ViewJson)(hit)
        if (Option.isSome(decoded)) return decoded.value
        // the garment (cached) and its history (a query) at once: two waits become one
        const withHistory = allowed.includes("ownership_history")
        const [g, rows] = yield* Effect.all(
          [metadata(garmentId), withHistory ? repo.history(garmentId) : Effect.succeed([])],
          // batching inherited: the history query joins the batch's other calls' (Repo.ts)
          { concurrency: 2, batching: "inherit" }
        )
        const out: Mutable<FacetsView> = viewOf(g, allowed, rows)
        if (allowed.includes("owner_identity") && g.ownerUserId !== null) {
          out.owner_identity = yield* ownerIdentity(g.ownerUserId)
        }
        yield* cacheSet(key, Schema.encodeSync(ViewJson)(out))
        return out
      }).pipe(Effect.withSpan("Knowledge.view", { captureStackTrace: false }))

    const announce = (g: Garment) =>
      Effect.gen(function* () {
        const raw = yield* Effect.orDie(redis.cache)
        const generation = yield* Effect.promise(() =>
          raiseGeneration(raw, redis.key(garmentGenerationKey(g.id)), g.version)
        )
        yield* Effect.ignore(redis.del(garmentMetadataKey(g.id)))
        const subjects = yield* ScanPathSubjects
        yield* publishFact(subjects.garmentUpdated, { garmentId: g.id, version: g.version, generation })
      })

    const create = (p: Principal, input: GarmentCreate) =>
      Effect.gen(function* () {
        const brandId = input.brandId ?? (p.role === "brand" ? p.brandId : null)
        if (brandId === null) {
          return yield* new InvalidGarment({ message: "brandId is required (only brand staff default to their brand)" })
        }
        yield* mayWrite(p, brandId)
        const gtin = validateGtin(input.gtin)
        if (!gtin.ok) {
          return yield* new InvalidGarment({
            message:
              gtin.problem === "bad-check-digit"
                ? `GTIN ${input.gtin} has a wrong check digit`
                : `GTIN ${input.gtin} is invalid`
          })
        }
        const created = yield* repo.insert({
          brandId,
          gtin: gtin.gtin14,
          serial: input.serial,
          batch: input.batch ?? null,
          name: input.name,
          facets: input.facets,
          by: p.userId
        })
        if (Option.isNone(created)) {
          return yield* new DuplicateGarment({
            message: `a garment with GTIN ${gtin.gtin14} and serial ${input.serial} already exists`
          })
        }
        return created.value
      }).pipe(Effect.withSpan("Knowledge.create"))

    const update = (p: Principal, id: string, patch: GarmentPatch) =>
      Effect.gen(function* () {
        const current = yield* repo.byId(id)
        if (Option.isNone(current)) return yield* new GarmentNotFound({ message: `no garment with id ${id}` })
        const g = current.value
        yield* mayWrite(p, g.brandId)
        const conflict = new VersionConflict({
          message: `version ${patch.version} is stale: the garment is at version ${g.version}; reload and retry`,
          details: { expected: patch.version, current: g.version }
        })
        if (g.version !== patch.version) return yield* conflict
        const updated = yield* repo.update(id, patch.version, {
          name: patch.name ?? g.name,
          batch: patch.batch === undefined ? g.batch : patch.batch,
          facets: { ...g.facets, ...(patch.facets ?? {}) },
          by: p.userId
        })
        if (Option.isNone(updated)) return yield* conflict
        yield* announce(updated.value)
        return updated.value
      }).pipe(Effect.withSpan("Knowledge.update"))

    const get = (p: Principal, id: string) =>
      Effect.gen(function* () {
        const g = yield* metadata(id)
        const ok = mayRead(p, g.brandId) || (p.role === "owner" && g.ownerUserId !== null && g.ownerUserId === p.userId)
        if (!ok)
          return yield* new Forbidden({ message: "only the garment's brand, owner, auditors and admins read it" })
        return g
      })

    return { resolve, view, create, update, get, metadata }
  })
}) {}

const decodeCreate = Schema.decodeUnknownEither(GarmentCreate)

/**
 * Bulk import, validated item by item: one bad item never fails the others. Reusable outside HTTP
 * (the orchestrator may run it as a BullMQ flow over chunks).
 */
export const importGarments = (p: Principal, items: ReadonlyArray<unknown>) =>
  Effect.gen(function* () {
    const knowledge = yield* Knowledge
    const results: Array<ImportResult["results"][number]> = []
    for (const [index, item] of items.entries()) {
      const decoded = decodeCreate(item, { onExcessProperty: "error" })
      if (Either.isLeft(decoded)) {
        results.push({
          index,
          ok: false,
          // the first problem with its path, in words, never the item's values
          error: { error: "ValidationError", message: parseErrorBody(decoded.left).message }
        })
        continue
      }
      const out = yield* Effect.either(knowledge.create(p, decoded.right))
      results.push(
        Either.isRight(out)
          ? { index, ok: true, id: out.right.id }
          : { index, ok: false, error: { error: out.left._tag, message: out.left.message } }
      )
    }
    const created = results.filter((r) => r.ok).length
    return { created, failed: results.length - created, results } satisfies ImportResult
  }).pipe(Effect.withSpan("Knowledge.importGarments"))
