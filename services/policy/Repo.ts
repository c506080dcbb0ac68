import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { ConsentRecord } from "./Api.js"

const ConsentRow = Schema.Struct({
  id: Schema.String,
  owner_user_id: Schema.String,
  garment_id: Schema.NullOr(Schema.String),
  purpose: Schema.String,
  granted: Schema.Boolean,
  policy_version: Schema.String,
  created_at: Schema.DateFromSelf
})
type ConsentRow = typeof ConsentRow.Type

const toRecord = (r: ConsentRow): ConsentRecord => ({
  id: r.id,
  ownerUserId: r.owner_user_id,
  garmentId: r.garment_id,
  purpose: r.purpose,
  granted: r.granted,
  policyVersion: r.policy_version,
  createdAt: r.created_at.toISOString()
})

/** The consents table (policy owns it): append-only; SQL failures become defects at this edge. */
export class ConsentRepo extends Effect.Service<ConsentRepo>()("brandme/policy/ConsentRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const insert = SqlSchema.single({
      Request: Schema.Struct({
        owner: Schema.String,
        garment: Schema.NullOr(Schema.String),
        purpose: Schema.String,
        granted: Schema.Boolean,
        version: Schema.String
      }),
      Result: ConsentRow,
      execute: (r) => sql`
        INSERT INTO consents (owner_user_id, garment_id, purpose, granted, policy_version)
        VALUES (${r.owner}, ${r.garment}, ${r.purpose}, ${r.granted}, ${r.version})
        RETURNING id::text, owner_user_id, garment_id, purpose, granted, policy_version, created_at`
    })
    const current = SqlSchema.findAll({
      Request: Schema.String,
      Result: ConsentRow,
      execute: (owner) => sql`
        SELECT DISTINCT ON (garment_id, purpose)
               id::text, owner_user_id, garment_id, purpose, granted, policy_version, created_at
        FROM consents WHERE owner_user_id = ${owner}
        ORDER BY garment_id, purpose, id DESC`
    })
    const garmentOwner = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ owner_user_id: Schema.NullOr(Schema.String) }),
      execute: (id) => sql`SELECT owner_user_id FROM garments WHERE id = ${id}`
    })
    const ownerFacts = SqlSchema.findAll({
      Request: Schema.Struct({ owner: Schema.String, garment: Schema.String }),
      Result: Schema.Struct({
        region_code: Schema.NullOr(Schema.String),
        id: Schema.NullOr(Schema.String),
        purpose: Schema.NullOr(Schema.String),
        granted: Schema.NullOr(Schema.Boolean)
      }),
      // a consent cannot outlive its owner's row (ON DELETE CASCADE): no user row, no consents
      execute: (r) => sql`
        SELECT u.region_code, c.id::text AS id, c.purpose, c.granted
        FROM users u
        LEFT JOIN consents c ON c.owner_user_id = u.id AND (c.garment_id = ${r.garment} OR c.garment_id IS NULL)
        WHERE u.id = ${r.owner}`
    })
    return {
      /**
       * What a decision about an owned garment reads, in one query: the owner's jurisdiction (identity's
       * users.region_code; null when unknown or erased) and their consents that apply to the garment (its own
       * and those for all their garments)
       */
      ownerFacts: (owner: string, garment: string) =>
        Effect.map(ownerFacts({ owner, garment }), (rows) => ({
          jurisdiction: rows[0]?.region_code ?? null,
          consents: rows.flatMap((c) =>
            c.id === null || c.purpose === null || c.granted === null
              ? []
              : [{ id: c.id, purpose: c.purpose, granted: c.granted }]
          )
        })).pipe(Effect.orDie),
      insert: (r: Parameters<typeof insert>[0]) => Effect.map(insert(r), toRecord).pipe(Effect.orDie),
      current: (owner: string) => Effect.map(current(owner), (rows) => rows.map(toRecord)).pipe(Effect.orDie),
      garmentOwner: (id: string) => garmentOwner(id).pipe(Effect.orDie)
    }
  })
}) {}
