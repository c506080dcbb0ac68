import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Schema } from "effect"
import { inReadOnlySnapshot } from "../../shared/layers/Snapshot.js"

/**
 * Data-subject rights (GDPR art. 15/17, CCPA): everything held about a person, and erasure.
 *
 * DOCUMENTED EXCEPTION to "each table has one owning service": the export READS other services'
 * tables (consents — policy; garments — knowledge; scan_events, notifications — orchestrator)
 * because a person's access request must be answered from one place and in one consistent
 * snapshot (one REPEATABLE READ transaction). It never writes them. Erasure writes only identity's
 * tables (users, subject_keys, sessions, devices, ownership_transfers/events); rows elsewhere keep
 * the user id, which after erasure points at a row with no personal data and a shredded key.
 */
/** The exported records; `Dt` is DateFromSelf for rows read from Postgres, Date (ISO text) in the API. */
export const exportRowSchemas = <I>(Dt: Schema.Schema<Date, I>) => ({
  devices: Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    api_key_prefix: Schema.String,
    brand_id: Schema.NullOr(Schema.String),
    created_at: Dt,
    last_used_at: Schema.NullOr(Dt),
    revoked_at: Schema.NullOr(Dt)
  }),
  sessions: Schema.Struct({ id: Schema.String, created_at: Dt, expires_at: Dt, revoked_at: Schema.NullOr(Dt) }),
  consents: Schema.Struct({
    id: Schema.String,
    garment_id: Schema.NullOr(Schema.String),
    purpose: Schema.String,
    granted: Schema.Boolean,
    policy_version: Schema.String,
    created_at: Dt
  }),
  garments: Schema.Struct({
    id: Schema.String,
    brand_id: Schema.String,
    gtin: Schema.String,
    serial: Schema.String,
    name: Schema.String
  }),
  ownershipEvents: Schema.Struct({
    id: Schema.String,
    garment_id: Schema.String,
    kind: Schema.String,
    from_user_id: Schema.NullOr(Schema.String),
    to_user_id: Schema.NullOr(Schema.String),
    created_at: Dt
  }),
  transfers: Schema.Struct({
    id: Schema.String,
    garment_id: Schema.String,
    from_user_id: Schema.NullOr(Schema.String),
    to_user_id: Schema.NullOr(Schema.String),
    status: Schema.String,
    created_at: Dt,
    expires_at: Dt,
    decided_at: Schema.NullOr(Dt)
  }),
  claims: Schema.Struct({ garment_id: Schema.String, claimed_at: Dt }),
  scanEvents: Schema.Struct({
    id: Schema.String,
    garment_id: Schema.String,
    device_id: Schema.NullOr(Schema.String),
    role: Schema.String,
    intent: Schema.String,
    region_code: Schema.String,
    decision: Schema.Unknown,
    scanned_at: Dt
  }),
  notifications: Schema.Struct({
    id: Schema.String,
    kind: Schema.String,
    payload: Schema.Unknown,
    created_at: Dt,
    read_at: Schema.NullOr(Dt)
  })
})

const ExportRows = exportRowSchemas(Schema.DateFromSelf)

export type SubjectRecords = {
  readonly [K in keyof typeof ExportRows]: ReadonlyArray<(typeof ExportRows)[K]["Type"]>
}

export interface PrivacyRepoShape {
  readonly records: (userId: string) => Effect.Effect<SubjectRecords>
  /** crypto-shreds and revokes in one transaction; returns the sessions whose Redis keys must go */
  readonly erase: (userId: string) => Effect.Effect<{ readonly sessionIds: ReadonlyArray<string> }>
}

export class PrivacyRepo extends Context.Tag("brandme/identity/PrivacyRepo")<PrivacyRepo, PrivacyRepoShape>() {}

export const PrivacyRepoLive = Layer.effect(
  PrivacyRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = <K extends keyof typeof ExportRows>(k: K, q: Effect.Effect<ReadonlyArray<unknown>, unknown>) =>
      Effect.flatMap(q, Schema.decodeUnknown(Schema.Array(ExportRows[k])))

    const records = (u: string) =>
      inReadOnlySnapshot(
        Effect.all({
          devices: rows(
            "devices",
            sql`SELECT id::text AS id, name, api_key_prefix, brand_id::text AS brand_id, created_at, last_used_at, revoked_at
                    FROM devices WHERE user_id = ${u}::uuid ORDER BY created_at`
          ),
          sessions: rows(
            "sessions",
            sql`SELECT id::text AS id, created_at, expires_at, revoked_at FROM sessions
                    WHERE user_id = ${u}::uuid ORDER BY created_at`
          ),
          consents: rows(
            "consents",
            sql`SELECT id::text AS id, garment_id::text AS garment_id, purpose, granted, policy_version, created_at
                    FROM consents WHERE owner_user_id = ${u}::uuid ORDER BY id`
          ),
          garments: rows(
            "garments",
            sql`SELECT id::text AS id, brand_id::text AS brand_id, gtin, serial, name FROM garments
                    WHERE owner_user_id = ${u}::uuid ORDER BY created_at`
          ),
          ownershipEvents: rows(
            "ownershipEvents",
            sql`SELECT id::text AS id, garment_id::text AS garment_id, kind, from_user_id::text AS from_user_id,
                           to_user_id::text AS to_user_id, created_at
                    FROM ownership_events WHERE from_user_id = ${u}::uuid OR to_user_id = ${u}::uuid ORDER BY id`
          ),
          transfers: rows(
            "transfers",
            sql`SELECT id::text AS id, garment_id::text AS garment_id, from_user_id::text AS from_user_id,
                           to_user_id::text AS to_user_id, status, created_at, expires_at, decided_at
                    FROM ownership_transfers WHERE from_user_id = ${u}::uuid OR to_user_id = ${u}::uuid ORDER BY created_at`
          ),
          claims: rows(
            "claims",
            sql`SELECT garment_id::text AS garment_id, claimed_at FROM claim_codes
                    WHERE claimed_by = ${u}::uuid ORDER BY claimed_at`
          ),
          scanEvents: rows(
            "scanEvents",
            sql`SELECT id::text AS id, garment_id::text AS garment_id, device_id::text AS device_id, role, intent,
                           region_code, decision, scanned_at
                    FROM scan_events WHERE scanner_user_id = ${u}::uuid ORDER BY scanned_at`
          ),
          notifications: rows(
            "notifications",
            sql`SELECT id::text AS id, kind, payload, created_at, read_at FROM notifications
                    WHERE user_id = ${u}::uuid ORDER BY created_at`
          )
        })
      ).pipe(Effect.provideService(SqlClient.SqlClient, sql), Effect.orDie, Effect.withSpan("PrivacyRepo.records"))

    const erase = (u: string) =>
      sql
        .withTransaction(
          Effect.gen(function* () {
            // crypto-shredding: without the key, every value sealed for this person (here and in the
            // audit log) is noise, while rows and audit hashes stay byte-identical
            yield* sql`UPDATE subject_keys SET key = NULL, erased_at = now() WHERE subject_id = ${u}::uuid AND key IS NOT NULL`
            // the lookup hash is replaced by random bytes: the address can sign up afresh, and the
            // row can no longer be linked to it
            yield* sql`
              UPDATE users SET email_hash = gen_random_bytes(32), email_sealed = NULL, display_name_sealed = NULL,
                               password_hash = NULL, region_code = NULL, erased_at = now()
              WHERE id = ${u}::uuid AND erased_at IS NULL`
            yield* sql`UPDATE sessions SET revoked_at = now() WHERE user_id = ${u}::uuid AND revoked_at IS NULL`
            yield* sql`UPDATE devices SET revoked_at = now() WHERE user_id = ${u}::uuid AND revoked_at IS NULL`
            const cancelled = yield* sql<{
              garment_id: string
              from_user_id: string | null
              to_user_id: string | null
            }>`
              UPDATE ownership_transfers SET status = 'cancelled', decided_at = now()
              WHERE status = 'pending' AND (from_user_id = ${u}::uuid OR to_user_id = ${u}::uuid)
              RETURNING garment_id::text AS garment_id, from_user_id::text AS from_user_id, to_user_id::text AS to_user_id`
            for (const c of cancelled) {
              yield* sql`INSERT INTO ownership_events (garment_id, kind, from_user_id, to_user_id)
                         VALUES (${c.garment_id}::uuid, 'transfer_cancelled', ${c.from_user_id}, ${c.to_user_id})`
            }
            const live = yield* sql<{ id: string }>`
              SELECT id::text AS id FROM sessions WHERE user_id = ${u}::uuid AND expires_at > now()`
            return { sessionIds: live.map((s) => s.id) }
          })
        )
        .pipe(Effect.orDie, Effect.withSpan("PrivacyRepo.erase"))

    return PrivacyRepo.of({ records, erase })
  })
)
