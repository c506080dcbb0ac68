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

const StateRow = Schema.Struct({ id: Schema.String, purpose: Schema.String, granted: Schema.Boolean })

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
    const forGarment = SqlSchema.findAll({
      Request: Schema.Struct({ owner: Schema.String, garment: Schema.String }),
      Result: StateRow,
      execute: (r) => sql`
        SELECT id::text, purpose, granted FROM consents
        WHERE owner_user_id = ${r.owner} AND (garment_id = ${r.garment} OR garment_id IS NULL)`
    })
    const garmentOwner = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ owner_user_id: Schema.NullOr(Schema.String) }),
      execute: (id) => sql`SELECT owner_user_id FROM garments WHERE id = ${id}`
    })
    const jurisdiction = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ region_code: Schema.NullOr(Schema.String) }),
      execute: (id) => sql`SELECT region_code FROM users WHERE id = ${id}`
    })
    return {
      /** the owner's jurisdiction (identity's users.region_code); null when unknown or erased */
      jurisdiction: (owner: string) =>
        Effect.map(jurisdiction(owner), (r) => (r._tag === "Some" ? r.value.region_code : null)).pipe(Effect.orDie),
      insert: (r: Parameters<typeof insert>[0]) => Effect.map(insert(r), toRecord).pipe(Effect.orDie),
      current: (owner: string) => Effect.map(current(owner), (rows) => rows.map(toRecord)).pipe(Effect.orDie),
      forGarment: (owner: string, garment: string) => forGarment({ owner, garment }).pipe(Effect.orDie),
      garmentOwner: (id: string) => garmentOwner(id).pipe(Effect.orDie)
    }
  })
}) {}
