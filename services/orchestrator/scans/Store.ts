import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { Decision, ScanEvent } from "../../../shared/domain/Scan.js"
import { TaskDependencyFailed } from "../Errors.js"

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

/** The garment of a persisted scan: what its scan.recorded message and owner notification need. */
export interface ScanGarment {
  /** lower-case (Postgres prints uuids lower-case) */
  readonly id: string
  readonly gtin: string
  readonly ownerUserId: string | null
  readonly brandId: string
}

const GarmentRow = Schema.Struct({
  id: Schema.String,
  gtin: Schema.String,
  owner_user_id: Schema.NullOr(Schema.String),
  brand_id: Schema.String
})
const decodeGarmentRows = Schema.decodeUnknown(Schema.Array(GarmentRow))

/** One INSERT row of a scan: `scannedAt` already formatted (it is formatted once per scan and reused). */
export interface ScanRow {
  readonly id: string
  readonly garment_id: string
  readonly scanner_user_id: string | null
  readonly device_id: string | null
  readonly role: string
  readonly intent: string
  readonly region_code: string
  readonly decision: Decision
  readonly scanned_at: string
}

export const scanRow = (e: ScanEvent, scannedAtIso: string): ScanRow => ({
  id: e.scanId,
  garment_id: e.garmentId,
  scanner_user_id: e.scannerUserId,
  device_id: e.deviceId,
  role: e.role,
  intent: e.intent,
  region_code: e.regionCode,
  decision: e.decision,
  scanned_at: scannedAtIso
})

/**
 * Writes many scans in one statement: rows go in as one JSON parameter, the INSERT skips ids that
 * exist (ON CONFLICT (id) DO NOTHING: exactly one row per scan id however often a job runs) and
 * scans of unknown garments. The statement answers with the rows of the batch's distinct garments
 * that exist (not one row per scan): a scan whose garment is not in the answer was not persisted, so
 * only that scan is dead-lettered. Keyed by lower-case garment id.
 */
export const persistScans = (rows: ReadonlyArray<ScanRow>) =>
  Effect.gen(function* () {
    if (rows.length === 0) return new Map<string, ScanGarment>()
    const sql = yield* SqlClient.SqlClient
    const result = yield* sql`
      WITH input AS (
        SELECT * FROM json_to_recordset(${JSON.stringify(rows)}::json) AS x(
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
      )
      -- a data-modifying CTE runs to completion whether or not the query reads it
      SELECT g.id::text AS id, g.gtin::text AS gtin, g.owner_user_id::text AS owner_user_id, g.brand_id::text AS brand_id
      FROM garments g WHERE g.id IN (SELECT DISTINCT garment_id FROM input)`.pipe(
      Effect.flatMap(decodeGarmentRows),
      Effect.mapError((e) => new TaskDependencyFailed({ operation: "persistScans", message: e.message }))
    )
    const out = new Map<string, ScanGarment>()
    for (const r of result) out.set(r.id, { id: r.id, gtin: r.gtin, ownerUserId: r.owner_user_id, brandId: r.brand_id })
    return out
  }).pipe(Effect.withSpan("ScanStore.persistScans", { captureStackTrace: false, attributes: { batch: rows.length } }))
