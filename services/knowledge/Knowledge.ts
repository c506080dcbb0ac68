import { Effect, Either, Option, Redacted, Schema, type Tracer } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { masterKeyBytes, open, unwrapSubjectKey } from "../../shared/crypto/Pii.js"
import type { TagRef } from "../../shared/domain/DigitalLink.js"
import { validateGtin } from "../../shared/domain/Gtin.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { parseErrorBody } from "../../shared/http/Validation.js"
import { jsonEncoderOf } from "../../shared/PlainJson.js"
import { Redis } from "../../shared/layers/Redis.js"
import { publishFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"
import { callUnderCurrentSpan, makePlainSpans } from "../../shared/telemetry/PlainSpans.js"
import {
  DuplicateGarment,
  FacetsView,
  type Garment,
  Garment as GarmentSchema,
  GarmentCreate,
  GarmentNotFound,
  type ResolvedGarment,
  type GarmentPatch,
  type GarmentRecord,
  type ImportResult,
  InvalidGarment,
  VersionConflict
} from "./Api.js"
import { garmentGenerationKey, garmentMetadataKey, garmentRefKey, isCurrent, raiseGeneration } from "./Keys.js"
import { GarmentRepo, keyOf, type OwnerRow, type OwnershipRow } from "./Repo.js"

/** a resolve call as the batch carries it */
export interface ResolveCall {
  readonly ref: TagRef
  readonly view?: ReadonlyArray<FacetGroup> | undefined
}
/** a view call as the batch carries it */
export interface ViewCall {
  readonly garmentId: string
  readonly allowed: ReadonlyArray<FacetGroup>
  /**
   * the garment's generation the caller holds, else read here. A view is kept under the generation it is asked
   * with and built from a record current at a generation at least as high, so one asked with an older
   * generation than Redis holds is only ever read by callers holding that older one.
   */
  readonly generation?: string | undefined
}

const HOUR = 60 * 60
const GarmentJson = Schema.parseJson(GarmentSchema)
const ViewJson = Schema.parseJson(FacetsView)
// written as built when plain (PlainJson.ts); read back through the schemas above
const garmentJson = jsonEncoderOf(GarmentSchema)
const viewJson = jsonEncoderOf(FacetsView)
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
    // the raw client for MGETs without a fiber; none in the unit tests' in-memory Redis (one GET each there)
    const raw = Option.getOrUndefined(yield* Effect.option(redis.cache))
    const spans = yield* makePlainSpans
    /**
     * The entries a call wrote, sent without waiting for the replies (Redis.ts `cacheLaterPlain`): each is safe to
     * land late or not at all — a record is served only while current (Keys.ts `isCurrent`), a view is keyed
     * by the generation it was built under, a tag's id never changes — so the call answers a round trip sooner.
     */
    const cacheSetMany = (entries: ReadonlyArray<readonly [string, string]>) => redis.cacheLaterPlain(entries, HOUR)

    /** several entries in one round trip (MGET); one by one where the client has none (tests); null when down */
    const cacheGetMany = (keys: ReadonlyArray<string>): Promise<ReadonlyArray<string | null>> =>
      keys.length === 0
        ? Promise.resolve([])
        : raw !== undefined
          ? raw.mget(...keys.map(redis.key)).catch(() => keys.map(() => null))
          : Promise.all(keys.map((k) => Effect.runPromise(cacheGet(k))))

    /** the owner's identity: their id and, when their subject key still opens it, their name */
    const identityOf = (userId: string, row: Option.Option<OwnerRow>) => {
      const name = Option.flatMap(row, (r) => {
        if (r.key === null || r.display_name_sealed === null) return Option.none()
        const key = unwrapSubjectKey(master, r.key)
        const plain = key === undefined ? undefined : open(key, r.display_name_sealed)
        return Option.fromNullable(plain?.toString("utf8"))
      })
      return { userId, displayName: Option.getOrNull(name) }
    }
    /**
     * The bulk forms of `resolve` and `view`: a batch's calls run together (`/internal/batch`, shared/http/Batch.ts)
     * with the same answers as one by one, in a fixed number of round trips whatever their number — the tags'
     * ids in one MGET, the garments' generations and cached records in one MGET, the records not cached in one
     * query by id and one by (gtin, serial), the histories and owners in one query each, every cache entry sent
     * in one write without waiting (`cacheLater`). One by one, each call paid a fiber and its own round trips: ~0.3 ms of knowledge's CPU a
     * call on top of the batch's (docs/scan-bench.md). A single call (the single-call endpoints, the in-process
     * client, `get`) is the same code with one call.
     *
     * Plain promises (since 8 December): Effect's fiber for each step and @effect/sql's for each statement were ~30 %
     * of knowledge's CPU for a batch of cold calls (a CPU profile of bench:batch); `parent` is the span the
     * statements' spans go under (the Effect forms below pass theirs).
     */
    /**
     * Garments by id, many at once: the generation and cached record of each in one MGET, a record served from
     * the cache when it is current — its version at least the generation read in the same round trip (Keys.ts),
     * so an entry written late by a reader that read the row before a change is never served after the change
     * is announced; the others in one query, their records added to `writes`.
     */
    const metadataMany = async (
      ids: ReadonlyArray<string>,
      writes: Array<readonly [string, string]>,
      parent: Tracer.AnySpan | undefined,
      generations?: Map<string, string>
    ) => {
      const unique = [...new Set(ids)]
      const values = await cacheGetMany(unique.flatMap(metadataKeys))
      // the generations read in the same MGET, for a caller that answers them (resolve)
      if (generations !== undefined) for (const [j, id] of unique.entries()) generations.set(id, values[2 * j] ?? "0")
      const { found, missing } = currentRecords(unique, values)
      return readMissing(found, missing, writes, parent)
    }
    /** the two entries a garment's cached record is read with: its generation, then the record */
    const metadataKeys = (id: string) => [garmentGenerationKey(id), garmentMetadataKey(id)]
    /** the cached records among `values` (metadataKeys of each id, in order) that are current, and the ids missing */
    const currentRecords = (ids: ReadonlyArray<string>, values: ReadonlyArray<string | null>) => {
      const found = new Map<string, Garment>()
      const missing: Array<string> = []
      for (const [j, id] of ids.entries()) {
        const hit = values[2 * j + 1]
        const decoded = hit == null ? Option.none() : Schema.decodeUnknownOption(GarmentJson)(hit)
        if (Option.isSome(decoded) && isCurrent(decoded.value.version, values[2 * j])) found.set(id, decoded.value)
        else missing.push(id)
      }
      return { found, missing }
    }
    /** the records missing read in one query, added to `found`, their entries to `writes` */
    const readMissing = async (
      found: Map<string, Garment>,
      missing: ReadonlyArray<string>,
      writes: Array<readonly [string, string]>,
      parent: Tracer.AnySpan | undefined
    ): Promise<ReadonlyMap<string, Garment>> => {
      if (missing.length === 0) return found
      for (const [id, g] of await repo.byIds(missing, parent)) {
        found.set(id, g)
        writes.push([garmentMetadataKey(id), garmentJson(g)])
      }
      return found
    }

    const resolveMany = async (
      calls: ReadonlyArray<ResolveCall>,
      parent: Tracer.AnySpan | undefined
    ): Promise<ReadonlyArray<Either.Either<ResolvedGarment, GarmentNotFound>>> => {
      const writes: Array<readonly [string, string]> = []
      // the id of each call's garment: its own, or its tag's from the cache
      const links = calls.flatMap((c, i) => (c.ref._tag === "DigitalLink" ? [i] : []))
      const linked = await cacheGetMany(
        links.map((i) => {
          const ref = calls[i]!.ref as Extract<TagRef, { _tag: "DigitalLink" }>
          return garmentRefKey(ref.gtin, ref.serial)
        })
      )
      const ids: Array<string | null> = calls.map((c) => (c.ref._tag === "GarmentId" ? c.ref.id : null))
      for (const [j, i] of links.entries()) ids[i] = linked[j] ?? null
      // each garment's generation as read with its record (ResolvedGarment.generation)
      const generations = new Map<string, string>()
      const byId = await metadataMany(
        ids.filter((id): id is string => id !== null),
        writes,
        parent,
        generations
      )
      // tags whose cached id found no garment: by (gtin, serial), both entries cached
      const garments = ids.map((id) => (id === null ? undefined : byId.get(id)))
      const unkeyed = links.filter((i) => garments[i] === undefined)
      const byKey = await repo.byKeys(
        unkeyed.map((i) => calls[i]!.ref as Extract<TagRef, { _tag: "DigitalLink" }>),
        parent
      )
      for (const i of unkeyed) {
        const ref = calls[i]!.ref as Extract<TagRef, { _tag: "DigitalLink" }>
        const g = byKey.get(keyOf(ref.gtin, ref.serial))
        if (g === undefined) continue
        garments[i] = g
        writes.push([garmentRefKey(ref.gtin, ref.serial), g.id], [garmentMetadataKey(g.id), garmentJson(g)])
      }
      // the generations of the garments found by tag, read after their rows (one MGET), beside the histories
      const byTag = [...new Set(unkeyed.flatMap((i) => (garments[i] === undefined ? [] : [garments[i]!.id])))]
      // the views asked for with an ownerless garment, their histories in one query
      const wantsView = (i: number) => {
        const g = garments[i]
        return g !== undefined && g.ownerUserId === null && calls[i]!.view !== undefined
      }
      const [histories, tagGenerations] = await Promise.all([
        repo.histories(
          calls.flatMap((c, i) => (wantsView(i) && c.view!.includes("ownership_history") ? [garments[i]!.id] : [])),
          parent
        ),
        cacheGetMany(byTag.map(garmentGenerationKey))
      ])
      for (const [j, id] of byTag.entries()) generations.set(id, tagGenerations[j] ?? "0")
      cacheSetMany(writes)
      return calls.map((c, i): Either.Either<ResolvedGarment, GarmentNotFound> => {
        const g = garments[i]
        if (g === undefined) {
          return Either.left(
            new GarmentNotFound({
              message:
                c.ref._tag === "GarmentId"
                  ? `no garment with id ${c.ref.id}`
                  : `no garment with GTIN ${c.ref.gtin} and serial ${c.ref.serial}`
            })
          )
        }
        const generation = generations.get(g.id)
        const record = generation === undefined ? recordOf(g) : { ...recordOf(g), generation }
        if (!wantsView(i)) return Either.right(record)
        return Either.right({ ...record, view: viewOf(g, c.view!, histories.get(g.id) ?? []) })
      })
    }

    const viewMany = async (
      calls: ReadonlyArray<ViewCall>,
      parent: Tracer.AnySpan | undefined
    ): Promise<ReadonlyArray<Either.Either<FacetsView, GarmentNotFound>>> => {
      const writes: Array<readonly [string, string]> = []
      // the generations the callers did not bring, in one MGET
      const unknown = calls.flatMap((c, i) => (c.generation === undefined ? [i] : []))
      const read = await cacheGetMany(unknown.map((i) => garmentGenerationKey(calls[i]!.garmentId)))
      const gens = calls.map((c) => c.generation ?? null)
      for (const [j, i] of unknown.entries()) gens[i] = read[j] ?? null
      const keys = calls.map(
        (c, i) => `knowledge:view:${c.garmentId}:${gens[i] ?? "0"}:${[...c.allowed].sort().join(",")}`
      )
      // the views and, for those not cached, each garment's cached record, in one MGET: a view not cached is
      // built from the record then, not after another round trip (the record's entries are a few hundred bytes)
      const ids = [...new Set(calls.map((c) => c.garmentId))]
      const values = await cacheGetMany([...keys, ...ids.flatMap(metadataKeys)])
      const out: Array<Either.Either<FacetsView, GarmentNotFound> | undefined> = keys.map((_, i) => {
        const hit = values[i] ?? null
        const decoded = hit === null ? Option.none() : Schema.decodeUnknownOption(ViewJson)(hit)
        return Option.isSome(decoded) ? Either.right(decoded.value) : undefined
      })
      const misses = calls.flatMap((_, i) => (out[i] === undefined ? [i] : []))
      if (misses.length === 0) return out as ReadonlyArray<Either.Either<FacetsView, GarmentNotFound>>
      // the records of the garments whose view was not cached, from the same MGET (the others are not decoded)
      const missedIds = new Set(misses.map((i) => calls[i]!.garmentId))
      const missed = ids.flatMap((id, j) => (missedIds.has(id) ? [j] : []))
      const cached = currentRecords(
        missed.map((j) => ids[j]!),
        missed.flatMap((j) => [values[keys.length + 2 * j] ?? null, values[keys.length + 2 * j + 1] ?? null])
      )
      const historiesOf = repo.histories(
        misses.flatMap((i) => (calls[i]!.allowed.includes("ownership_history") ? [calls[i]!.garmentId] : [])),
        parent
      )
      const ownersOf = (garments: ReadonlyMap<string, Garment>) =>
        repo.owners(
          [
            ...new Set(
              misses.flatMap((i) => {
                const g = garments.get(calls[i]!.garmentId)
                return g !== undefined && g.ownerUserId !== null && calls[i]!.allowed.includes("owner_identity")
                  ? [g.ownerUserId]
                  : []
              })
            )
          ],
          parent
        )
      // the histories beside the records not cached, then the owners; all three at once when every record was
      const [garments, histories, owners] =
        cached.missing.length === 0
          ? await Promise.all([cached.found, historiesOf, ownersOf(cached.found)])
          : await Promise.all([readMissing(cached.found, cached.missing, writes, parent), historiesOf]).then(
              async ([garments, histories]) => [garments, histories, await ownersOf(garments)] as const
            )
      for (const i of misses) {
        const c = calls[i]!
        const g = garments.get(c.garmentId)
        if (g === undefined) {
          out[i] = Either.left(new GarmentNotFound({ message: `no garment with id ${c.garmentId}` }))
          continue
        }
        const view = viewOf(g, c.allowed, histories.get(g.id) ?? [])
        if (c.allowed.includes("owner_identity") && g.ownerUserId !== null) {
          view.owner_identity = identityOf(g.ownerUserId, Option.fromNullable(owners.get(g.ownerUserId)))
        }
        writes.push([keys[i]!, viewJson(view)])
        out[i] = Either.right(view)
      }
      cacheSetMany(writes)
      return out as ReadonlyArray<Either.Either<FacetsView, GarmentNotFound>>
    }

    /** a bulk form in its own span (`Knowledge.resolveMany`, `…viewMany`) under `parent`, its statements' under it */
    const inSpan =
      <C, A>(name: string, run: (calls: ReadonlyArray<C>, span: Tracer.AnySpan) => Promise<ReadonlyArray<A>>) =>
      (calls: ReadonlyArray<C>, parent: Tracer.AnySpan | undefined): Promise<ReadonlyArray<A>> =>
        spans.within(name, parent, "internal", (span) => {
          span.attribute("calls", calls.length)
          return run(calls, span)
        })
    const resolveManyPlain = inSpan("Knowledge.resolveMany", resolveMany)
    const viewManyPlain = inSpan("Knowledge.viewMany", viewMany)
    /** a bulk form as an Effect, under the fiber's span (a rejection is a defect, as the lookups' errors were) */
    const effectOf =
      <C, A>(run: (calls: ReadonlyArray<C>, parent: Tracer.AnySpan | undefined) => Promise<ReadonlyArray<A>>) =>
      (calls: ReadonlyArray<C>): Effect.Effect<ReadonlyArray<A>> =>
        callUnderCurrentSpan((parent) => run(calls, parent).then(Either.right))
    const resolveManyEffect = effectOf(resolveManyPlain)
    const viewManyEffect = effectOf(viewManyPlain)

    /** one call of a bulk form, as an effect */
    const one = <A>(outcomes: Effect.Effect<ReadonlyArray<Either.Either<A, GarmentNotFound>>>) =>
      Effect.flatMap(outcomes, ([outcome]) => outcome!)

    /** the garment by id (cached when current, as metadataMany) */
    const metadata = (id: string) =>
      callUnderCurrentSpan(async (parent) => {
        const writes: Array<readonly [string, string]> = []
        const g = (await metadataMany([id], writes, parent)).get(id)
        cacheSetMany(writes)
        return g === undefined
          ? Either.left(new GarmentNotFound({ message: `no garment with id ${id}` }))
          : Either.right(g)
      })

    /**
     * The garment a tag names and, when `viewGroups` is given and the garment has no owner, its view of those
     * groups, built from the same read of the garment.
     */
    const resolve = (ref: TagRef, viewGroups?: ReadonlyArray<FacetGroup>) =>
      one(resolveManyEffect([{ ref, view: viewGroups }])).pipe(
        Effect.withSpan("Knowledge.resolve", { captureStackTrace: false })
      )

    const view = (garmentId: string, allowed: ReadonlyArray<FacetGroup>, generation?: string) =>
      one(viewManyEffect([{ garmentId, allowed, generation }])).pipe(
        Effect.withSpan("Knowledge.view", { captureStackTrace: false })
      )

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

    return {
      resolve,
      view,
      /** the bulk forms as promises, for the batch endpoint (shared/http/Batch.ts `BulkOperations`) */
      plain: { resolveMany: resolveManyPlain, viewMany: viewManyPlain },
      create,
      update,
      get,
      metadata
    }
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
