import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import type { Garment, ProductFacets } from "./Api.js"
import { isRecord } from "../../shared/Guards.js"

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
  kind: Schema.String,
  from_user_id: Schema.NullOr(Schema.String),
  to_user_id: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})

const OwnerRow = Schema.Struct({
  display_name_sealed: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  key: Schema.NullOr(Schema.Uint8ArrayFromSelf)
})

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

/** Garments (knowledge owns the table); reads ownership_events and the owner's sealed name. */
export class GarmentRepo extends Effect.Service<GarmentRepo>()("brandme/knowledge/GarmentRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const byId = SqlSchema.findOne({
      Request: Schema.String,
      Result: GarmentRow,
      execute: (id) => sql`SELECT ${sql.literal(COLUMNS)} FROM garments WHERE id = ${id}`
    })
    const byKey = SqlSchema.findOne({
      Request: Schema.Struct({ gtin: Schema.String, serial: Schema.String }),
      Result: GarmentRow,
      execute: (k) => sql`SELECT ${sql.literal(COLUMNS)} FROM garments WHERE gtin = ${k.gtin} AND serial = ${k.serial}`
    })
    const history = SqlSchema.findAll({
      Request: Schema.String,
      Result: OwnershipRow,
      execute: (id) => sql`
        SELECT kind, from_user_id, to_user_id, created_at FROM ownership_events
        WHERE garment_id = ${id} ORDER BY created_at, id`
    })
    const owner = SqlSchema.findOne({
      Request: Schema.String,
      Result: OwnerRow,
      execute: (id) => sql`
        SELECT u.display_name_sealed, k.key FROM users u LEFT JOIN subject_keys k ON k.subject_id = u.id
        WHERE u.id = ${id}`
    })
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
      byKey: (gtin: string, serial: string) =>
        Effect.map(byKey({ gtin, serial }), Option.map(toGarment)).pipe(Effect.orDie),
      history: (id: string) => history(id).pipe(Effect.orDie),
      owner: (userId: string) => owner(userId).pipe(Effect.orDie),
      insert: (g: NewGarment) => insert(g).pipe(Effect.orDie),
      update: (id: string, version: number, set: GarmentChange) => update(id, version, set).pipe(Effect.orDie)
    }
  })
}) {}
