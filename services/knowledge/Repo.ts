import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema, type Tracer } from "effect"
import type { Garment, ProductFacets } from "./Api.js"
import { isRecord } from "../../shared/Guards.js"
import { Database } from "../../shared/layers/Database.js"
import { makePlainSpans } from "../../shared/telemetry/PlainSpans.js"

export const GarmentRow = Schema.Struct({
  id: Schema.String,
  brand_id: Schema.String,
  gtin: Schema.String,
  serial: Schema.String,
  batch: Schema.NullOr(Schema.String),
  name: Schema.String,
  facets: Schema.Unknown,
  owner_user_id: Schema.NullOr(Schema.String),
  version: Schema.Number,
  created_at: Schema.DateFromSelf,
  updated_at: Schema.DateFromSelf
})
type GarmentRow = typeof GarmentRow.Type

// facets are written only through the ProductFacets schema, so reading them back trusts the column
export const toGarment = (r: GarmentRow): Garment => ({
  id: r.id,
  brandId: r.brand_id,
  gtin: r.gtin,
  serial: r.serial,
  batch: r.batch,
  name: r.name,
  facets: isRecord(r.facets) ? r.facets : {},
  ownerUserId: r.owner_user_id,
  version: r.version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString()
})

export const COLUMNS = "id, brand_id, gtin, serial, batch, name, facets, owner_user_id, version, created_at, updated_at"

const OwnershipRow = Schema.Struct({
  garment_id: Schema.String,
  kind: Schema.String,
  from_user_id: Schema.NullOr(Schema.String),
  to_user_id: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})
export type OwnershipRow = typeof OwnershipRow.Type

export const OwnerRow = Schema.Struct({
  display_name_sealed: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  key: Schema.NullOr(Schema.Uint8ArrayFromSelf)
})
export type OwnerRow = typeof OwnerRow.Type

export interface NewGarment {
  readonly brandId: string
  readonly gtin: string
  readonly serial: string
  readonly batch: string | null
  readonly name: string
  readonly facets: ProductFacets
  /** the user who wrote it (kept in garment_versions) */
  readonly by: string
}

export interface GarmentChange {
  readonly name: string
  readonly batch: string | null
  readonly facets: ProductFacets
  readonly by: string
}

/** the key byKeys answers by */
export const keyOf = (gtin: string, serial: string) => `${gtin}\u0000${serial}`
const isUuid = Schema.is(Schema.UUID)

/**
 * Garments (knowledge owns the table); reads ownership_events and the owner's sealed name. The scan path's
 * lookups take many keys at once — Knowledge runs a batch's calls together — so the lookups of one batch of
 * internal calls go to Postgres as ONE indexed query each (`unnest` of the keys joined to the unique key, `= ANY`
 * on the history index), not one query and one round trip per call.
 */
export class GarmentRepo extends Effect.Service<GarmentRepo>()("brandme/knowledge/GarmentRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const byId = SqlSchema.findOne({
      Request: Schema.String,
      Result: GarmentRow,
      execute: (id) => sql`SELECT ${sql.literal(COLUMNS)} FROM garments WHERE id = ${id}`
    })
    const db = yield* Database
    const spans = yield* makePlainSpans
    /**
     * A scan-path lookup: one named statement (prepared once per connection) on the pool, no fiber, in a
     * `sql.execute` span under `parent` as @effect/sql's statements have; its rows are this schema's own columns,
     * read as the driver types them (uuid and text as strings, int as numbers, timestamptz as Dates, bytea as
     * Buffers, jsonb parsed), not decoded again row by row.
     */
    const lookup = <R>(
      name: string,
      text: string,
      values: ReadonlyArray<unknown>,
      parent: Tracer.AnySpan | undefined
    ): Promise<ReadonlyArray<R>> =>
      spans.within("sql.execute", parent, "client", (span) => {
        span.attribute("db.system.name", "postgresql")
        span.attribute("db.query.text", text)
        return db.query<R>(text, values, name)
      })
    const BY_KEYS = `SELECT ${COLUMNS.replace(/(\w+)/g, "g.$1")}
        FROM garments g JOIN unnest($1::bpchar[], $2::text[]) AS k(gtin, serial)
          ON g.gtin = k.gtin AND g.serial = k.serial`
    const BY_IDS = `SELECT ${COLUMNS} FROM garments WHERE id = ANY($1::uuid[])`
    const HISTORIES = `SELECT garment_id, kind, from_user_id, to_user_id, created_at FROM ownership_events
        WHERE garment_id = ANY($1::uuid[]) ORDER BY garment_id, created_at, id`
    const OWNERS = `SELECT u.id::text AS id, u.display_name_sealed, k.key FROM users u
        LEFT JOIN subject_keys k ON k.subject_id = u.id WHERE u.id = ANY($1::uuid[])`
    // every write also records the version it produced (garment_versions), in the same statement
    const insert = (g: NewGarment) =>
      Effect.map(
        sql<GarmentRow>`
          WITH g AS (
            INSERT INTO garments (brand_id, gtin, serial, batch, name, facets)
            VALUES (${g.brandId}, ${g.gtin}, ${g.serial}, ${g.batch}, ${g.name}, ${JSON.stringify(g.facets)}::jsonb)
            ON CONFLICT (gtin, serial) DO NOTHING
            RETURNING ${sql.literal(COLUMNS)}
          ), v AS (
            INSERT INTO garment_versions (garment_id, version, name, batch, facets, changed_by)
            SELECT id, version, name, batch, facets, ${g.by}::uuid FROM g
          )
          SELECT ${sql.literal(COLUMNS)} FROM g`,
        (rows) => Option.map(Option.fromNullable(rows[0]), toGarment)
      )
    const update = (id: string, version: number, set: GarmentChange) =>
      Effect.map(
        sql<GarmentRow>`
          WITH g AS (
            UPDATE garments SET name = ${set.name}, batch = ${set.batch}, facets = ${JSON.stringify(set.facets)}::jsonb,
                   version = version + 1, updated_at = now()
            WHERE id = ${id} AND version = ${version}
            RETURNING ${sql.literal(COLUMNS)}
          ), v AS (
            INSERT INTO garment_versions (garment_id, version, name, batch, facets, changed_by)
            SELECT id, version, name, batch, facets, ${set.by}::uuid FROM g
          )
          SELECT ${sql.literal(COLUMNS)} FROM g`,
        (rows) => Option.map(Option.fromNullable(rows[0]), toGarment)
      )
    return {
      byId: (id: string) => Effect.map(byId(id), Option.map(toGarment)).pipe(Effect.orDie),
      /**
       * The scan path's lookups, many at once (Knowledge runs a batch's calls together, and a single call as
       * one of them): one query each, answered by key, as promises (`lookup`). `byIds` skips ids that are not
       * UUIDs (they come from the tag cache: no garment has such an id) rather than failing the query for all.
       */
      byIds: async (ids: ReadonlyArray<string>, parent?: Tracer.AnySpan): Promise<ReadonlyMap<string, Garment>> => {
        const valid = ids.filter(isUuid)
        if (valid.length === 0) return new Map()
        const rows = await lookup<GarmentRow>("knowledge_garments_by_ids", BY_IDS, [valid], parent)
        return new Map(rows.map((r) => [r.id, toGarment(r)]))
      },
      byKeys: async (
        keys: ReadonlyArray<{ readonly gtin: string; readonly serial: string }>,
        parent?: Tracer.AnySpan
      ): Promise<ReadonlyMap<string, Garment>> => {
        if (keys.length === 0) return new Map()
        const rows = await lookup<GarmentRow>(
          "knowledge_garments_by_keys",
          BY_KEYS,
          [keys.map((k) => k.gtin), keys.map((k) => k.serial)],
          parent
        )
        return new Map(rows.map((r) => [keyOf(r.gtin, r.serial), toGarment(r)]))
      },
      /** the histories of many garments in one query, by garment, oldest first */
      histories: async (
        ids: ReadonlyArray<string>,
        parent?: Tracer.AnySpan
      ): Promise<ReadonlyMap<string, ReadonlyArray<OwnershipRow>>> => {
        const byGarment = new Map<string, Array<OwnershipRow>>()
        if (ids.length === 0) return byGarment
        for (const row of await lookup<OwnershipRow>("knowledge_histories", HISTORIES, [ids], parent)) {
          const list = byGarment.get(row.garment_id)
          if (list === undefined) byGarment.set(row.garment_id, [row])
          else list.push(row)
        }
        return byGarment
      },
      owners: async (ids: ReadonlyArray<string>, parent?: Tracer.AnySpan): Promise<ReadonlyMap<string, OwnerRow>> => {
        if (ids.length === 0) return new Map()
        const rows = await lookup<OwnerRow & { readonly id: string }>("knowledge_owners", OWNERS, [ids], parent)
        return new Map(rows.map((r) => [r.id, r]))
      },
      insert: (g: NewGarment) => insert(g).pipe(Effect.orDie),
      update: (id: string, version: number, set: GarmentChange) => update(id, version, set).pipe(Effect.orDie)
    }
  })
}) {}
