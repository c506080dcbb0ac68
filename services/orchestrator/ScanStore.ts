import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import type { Decision, ScanEvent } from "../../shared/domain/Scan.js"
import { TaskDependencyFailed } from "./Errors.js"

/** What `brandme.scan.recorded` carries: enough for agentic and analytics, no personal data. */
export const ScanRecorded = Schema.Struct({
  scanId: Schema.UUID,
  garmentId: Schema.UUID,
  gtin: Schema.optional(Schema.String),
  regionCode: Schema.String,
  intent: Schema.String,
  role: Schema.String,
  outcome: Schema.Literal("allowed", "partial", "denied"),
  scannedAt: Schema.String
})
export type ScanRecorded = typeof ScanRecorded.Type

export const outcomeOf = (d: Decision): ScanRecorded["outcome"] =>
  d.allowed.length === 0 ? "denied" : d.denied.length === 0 ? "allowed" : "partial"

export interface PersistedScan {
  readonly scanId: string
  /** false when the row already existed (a redelivered job) */
  readonly inserted: boolean
  readonly gtin: string
  readonly ownerUserId: string | null
  readonly brandId: string
}

const ResultRow = Schema.Struct({
  id: Schema.String,
  gtin: Schema.String,
  owner_user_id: Schema.NullOr(Schema.String),
  brand_id: Schema.String,
  inserted: Schema.Boolean
})

/**
 * Writes many scans in one statement: rows go in as one JSON parameter, the INSERT skips ids that
 * exist (ON CONFLICT (id) DO NOTHING: exactly one row per scan id however often a job runs) and
 * scans of unknown garments (reported back as missing so only those jobs fail).
 * Returns one entry per scan whose garment exists, with whether this call inserted it.
 */
/** keyed by lower-case scan id (Postgres prints uuids lower-case) */
export const persistScans = (events: ReadonlyArray<ScanEvent>) =>
  Effect.gen(function* () {
    if (events.length === 0) return new Map<string, PersistedScan>()
    const sql = yield* SqlClient.SqlClient
    const rows = events.map((e) => ({
      id: e.scanId,
      garment_id: e.garmentId,
      scanner_user_id: e.scannerUserId,
      device_id: e.deviceId,
      role: e.role,
      intent: e.intent,
      region_code: e.regionCode,
      decision: e.decision,
      scanned_at: DateTime.formatIso(e.scannedAt)
    }))
    const result = yield* sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          id uuid, garment_id uuid, scanner_user_id uuid, device_id uuid, role text, intent text,
          region_code text, decision jsonb, scanned_at timestamptz)
      ), ins AS (
        INSERT INTO scan_events (id, garment_id, scanner_user_id, device_id, role, intent, region_code, decision, scanned_at)
        SELECT i.id, i.garment_id,
               -- a scanner or device deleted since the scan must not fail the whole batch on its FK
               (SELECT u.id FROM users u WHERE u.id = i.scanner_user_id),
               (SELECT d.id FROM devices d WHERE d.id = i.device_id),
               i.role, i.intent, i.region_code, i.decision, i.scanned_at
        FROM input i WHERE EXISTS (SELECT 1 FROM garments g WHERE g.id = i.garment_id)
        ON CONFLICT (id) DO NOTHING
        RETURNING id
      )
      SELECT i.id::text AS id, g.gtin::text AS gtin, g.owner_user_id::text AS owner_user_id, g.brand_id::text AS brand_id,
             (ins.id IS NOT NULL) AS inserted
      FROM input i JOIN garments g ON g.id = i.garment_id LEFT JOIN ins ON ins.id = i.id`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(ResultRow))),
      Effect.mapError((e) => new TaskDependencyFailed({ operation: "persistScans", message: e.message }))
    )
    const out = new Map<string, PersistedScan>()
    for (const r of result)
      out.set(r.id, {
        scanId: r.id,
        inserted: r.inserted,
        gtin: r.gtin,
        ownerUserId: r.owner_user_id,
        brandId: r.brand_id
      })
    return out
  }).pipe(Effect.withSpan("ScanStore.persistScans", { attributes: { batch: events.length } }))
