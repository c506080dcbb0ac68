import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { type CursorKey, DEFAULT_PAGE, pageOf } from "../../shared/http/Paging.js"
import {
  type GarmentListParams,
  GarmentNotFound,
  type GarmentVersion,
  type ScanRecord,
  type ScanSummary
} from "./Api.js"
import { mayRead } from "./Knowledge.js"
import { COLUMNS, GarmentRow, toGarment } from "./Repo.js"
import { isRecord } from "../../shared/Guards.js"

const VersionRow = Schema.Struct({
  version: Schema.Number,
  name: Schema.String,
  batch: Schema.NullOr(Schema.String),
  facets: Schema.Unknown,
  changed_by: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})
const ScanRow = Schema.Struct({
  id: Schema.String,
  scanned_at: Schema.DateFromSelf,
  role: Schema.String,
  intent: Schema.String,
  region_code: Schema.String,
  by_device: Schema.Boolean
})
const DailyRow = Schema.Struct({
  day: Schema.String,
  region_code: Schema.String,
  intent: Schema.String,
  count: Schema.Number
})
const BrandOf = Schema.Struct({ brand_id: Schema.String })

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, "\\$&")}%`

const counts = (rows: ReadonlyArray<{ readonly key: string; readonly count: number }>) => {
  const m = new Map<string, number>()
  for (const r of rows) m.set(r.key, (m.get(r.key) ?? 0) + r.count)
  return [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
}

/**
 * The console's reads of garments: lists with search, filters and keyset paging, version history, and a
 * garment's scans (scan_events, written by the orchestrator's scan worker) with their aggregates. Who may
 * read: brand staff their own brand, owners their own garments (list only), auditors and admins all.
 */
export class GarmentCatalog extends Effect.Service<GarmentCatalog>()("brandme/knowledge/GarmentCatalog", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const brandOf = SqlSchema.findOne({
      Request: Schema.String,
      Result: BrandOf,
      execute: (id) => sql`SELECT brand_id::text AS brand_id FROM garments WHERE id = ${id}`
    })

    /** The garment's brand, once the caller may read its history (a stranger's garment is a 403). */
    const readable = (p: Principal, id: string) =>
      Effect.gen(function* () {
        const row = yield* brandOf(id).pipe(Effect.orDie)
        if (Option.isNone(row)) return yield* new GarmentNotFound({ message: `no garment with id ${id}` })
        if (!mayRead(p, row.value.brand_id)) {
          return yield* new Forbidden({ message: "only the garment's brand, auditors and admins read its history" })
        }
        return row.value.brand_id
      })

    const list = (p: Principal, params: GarmentListParams) =>
      Effect.gen(function* () {
        if (p.role === "brand" && params.brandId !== undefined && params.brandId !== p.brandId) {
          return yield* new Forbidden({ message: "brand staff list only their own brand's garments" })
        }
        const brandId = p.role === "brand" ? p.brandId : (params.brandId ?? null)
        const ownerId = p.role === "owner" ? p.userId : null
        if (p.role === "brand" && brandId === null) {
          return yield* new Forbidden({ message: "this brand account has no brand" })
        }
        const limit = params.limit ?? DEFAULT_PAGE
        const where = [
          brandId === null ? sql`TRUE` : sql`brand_id = ${brandId}::uuid`,
          ownerId === null ? sql`TRUE` : sql`owner_user_id = ${ownerId}::uuid`,
          params.status === undefined
            ? sql`TRUE`
            : params.status === "claimed"
              ? sql`owner_user_id IS NOT NULL`
              : sql`owner_user_id IS NULL`,
          params.q === undefined || params.q === ""
            ? sql`TRUE`
            : sql`(name ILIKE ${likePattern(params.q)} OR serial ILIKE ${likePattern(params.q)}
                   OR gtin LIKE ${likePattern(params.q)} OR batch ILIKE ${likePattern(params.q)})`,
          params.cursor === undefined
            ? sql`TRUE`
            : sql`(created_at, id) < (${params.cursor.at}, ${params.cursor.id}::uuid)`
        ]
        const rows = yield* sql`
          SELECT ${sql.literal(COLUMNS)} FROM garments WHERE ${sql.and(where)}
          ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(GarmentRow))),
          Effect.orDie
        )
        const page = pageOf(rows, limit, (r) => ({ at: r.created_at, id: r.id }))
        return { garments: page.items.map(toGarment), nextCursor: page.nextCursor }
      }).pipe(Effect.withSpan("GarmentCatalog.list"))

    const versions = (p: Principal, id: string) =>
      Effect.gen(function* () {
        yield* readable(p, id)
        const rows = yield* sql`
          SELECT version, name, batch, facets, changed_by::text AS changed_by, created_at
          FROM garment_versions WHERE garment_id = ${id} ORDER BY version DESC`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(VersionRow))),
          Effect.orDie
        )
        const out: Array<GarmentVersion> = rows.map((r) => ({
          version: r.version,
          name: r.name,
          batch: r.batch,
          facets: isRecord(r.facets) ? r.facets : {},
          changedBy: r.changed_by,
          createdAt: r.created_at.toISOString()
        }))
        return { versions: out }
      }).pipe(Effect.withSpan("GarmentCatalog.versions"))

    const scans = (
      p: Principal,
      id: string,
      params: { readonly cursor?: CursorKey | undefined; readonly limit?: number | undefined }
    ) =>
      Effect.gen(function* () {
        yield* readable(p, id)
        const limit = params.limit ?? DEFAULT_PAGE
        const after =
          params.cursor === undefined
            ? sql`TRUE`
            : sql`(scanned_at, id) < (${params.cursor.at}, ${params.cursor.id}::uuid)`
        const rows = yield* sql`
          SELECT id::text AS id, scanned_at, role, intent, region_code, device_id IS NOT NULL AS by_device
          FROM scan_events WHERE garment_id = ${id} AND ${after}
          ORDER BY scanned_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(ScanRow))),
          Effect.orDie
        )
        const page = pageOf(rows, limit, (r) => ({ at: r.scanned_at, id: r.id }))
        const out: Array<ScanRecord> = page.items.map((r) => ({
          id: r.id,
          scannedAt: r.scanned_at.toISOString(),
          role: r.role,
          intent: r.intent,
          regionCode: r.region_code,
          byDevice: r.by_device
        }))
        return { scans: out, nextCursor: page.nextCursor }
      }).pipe(Effect.withSpan("GarmentCatalog.scans"))

    const scanSummary = (p: Principal, id: string, days: number) =>
      Effect.gen(function* () {
        yield* readable(p, id)
        const since = new Date(Date.now() - days * 86_400_000)
        const daily = yield* sql`
          SELECT to_char(scanned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, region_code, intent, count(*)::int AS count
          FROM scan_events WHERE garment_id = ${id} AND scanned_at >= ${since}
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(DailyRow))),
          Effect.orDie
        )
        const summary: ScanSummary = {
          garmentId: id,
          since: since.toISOString(),
          total: daily.reduce((n, r) => n + r.count, 0),
          byRegion: counts(daily.map((r) => ({ key: r.region_code, count: r.count }))),
          byIntent: counts(daily.map((r) => ({ key: r.intent, count: r.count }))),
          daily: daily.map((r) => ({ day: r.day, regionCode: r.region_code, intent: r.intent, count: r.count }))
        }
        return summary
      }).pipe(Effect.withSpan("GarmentCatalog.scanSummary"))

    return { list, versions, scans, scanSummary } as const
  })
}) {}
