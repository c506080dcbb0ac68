import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { FacetGroup, Generation } from "../../shared/domain/Scan.js"
import { batchGroup } from "../../shared/http/Batch.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Cursor, PageLimit } from "../../shared/http/Paging.js"
import { Services } from "../../shared/ServiceCatalog.js"

const Text = (max: number) => Schema.String.pipe(Schema.minLength(1), Schema.maxLength(max))

/** The product facet groups a brand records (ownership history is derived, owner identity is identity's). */
export const ProductFacets = Schema.Struct({
  materials: Schema.optional(
    Schema.Array(Schema.Struct({ fibre: Text(80), percent: Schema.Number.pipe(Schema.between(0, 100)) }))
  ),
  origin: Schema.optional(Schema.Struct({ country: Text(80), facility: Schema.optional(Text(200)) })),
  supply_chain: Schema.optional(
    Schema.Array(Schema.Struct({ step: Text(80), country: Text(80), at: Schema.optional(Text(40)) }))
  ),
  care: Schema.optional(Schema.Record({ key: Text(40), value: Text(200) })),
  certifications: Schema.optional(Schema.Array(Schema.Struct({ name: Text(80), id: Schema.optional(Text(120)) })))
})
export type ProductFacets = typeof ProductFacets.Type

export const OwnershipEntry = Schema.Struct({
  kind: Schema.String,
  at: Schema.String,
  fromUserId: Schema.optional(Schema.NullOr(Schema.UUID)),
  toUserId: Schema.optional(Schema.NullOr(Schema.UUID))
})

/** Facets as a scanner sees them: only the groups the decision allowed. */
export const FacetsView = Schema.Struct({
  ...ProductFacets.fields,
  ownership_history: Schema.optional(Schema.Array(OwnershipEntry)),
  owner_identity: Schema.optional(Schema.Struct({ userId: Schema.UUID, displayName: Schema.NullOr(Schema.String) }))
})
export type FacetsView = typeof FacetsView.Type

export const Garment = Schema.Struct({
  id: Schema.UUID,
  brandId: Schema.UUID,
  gtin: Schema.String,
  serial: Schema.String,
  batch: Schema.NullOr(Schema.String),
  name: Schema.String,
  facets: ProductFacets,
  ownerUserId: Schema.NullOr(Schema.UUID),
  version: Schema.Int,
  createdAt: Schema.String,
  updatedAt: Schema.String
})
export type Garment = typeof Garment.Type

const AiValue = Schema.String.pipe(
  Schema.pattern(/^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/, {
    message: () => "must be 1-20 characters of the GS1 AI encodable set 82"
  })
)

export const GarmentCreate = Schema.Struct({
  brandId: Schema.optional(Schema.UUID),
  gtin: Schema.String.pipe(
    Schema.pattern(/^[0-9]{8}$|^[0-9]{12,14}$/, { message: () => "must be 8, 12, 13 or 14 digits" })
  ),
  serial: AiValue,
  batch: Schema.optional(AiValue),
  name: Text(200),
  facets: ProductFacets
})
export type GarmentCreate = typeof GarmentCreate.Type

export const GarmentPatch = Schema.Struct({
  version: Schema.Int.pipe(Schema.positive()),
  name: Schema.optional(Text(200)),
  batch: Schema.optional(Schema.NullOr(AiValue)),
  facets: Schema.optional(ProductFacets)
}).annotations({ description: "facets: the groups given replace those groups; the others stay" })
export type GarmentPatch = typeof GarmentPatch.Type

export const ImportRequest = Schema.Struct({
  garments: Schema.Array(Schema.Unknown).pipe(Schema.minItems(1), Schema.maxItems(1000))
})
export const ImportItemResult = Schema.Struct({
  index: Schema.Int,
  ok: Schema.Boolean,
  id: Schema.optional(Schema.UUID),
  error: Schema.optional(Schema.Struct({ error: Schema.String, message: Schema.String }))
})
export const ImportResult = Schema.Struct({
  created: Schema.Int,
  failed: Schema.Int,
  results: Schema.Array(ImportItemResult)
})
export type ImportResult = typeof ImportResult.Type

/** The record the gateway resolves a tag to (no facets: those come filtered through `view`). */
export const GarmentRecord = Schema.Struct({
  id: Schema.UUID,
  brandId: Schema.UUID,
  name: Schema.String,
  gtin: Schema.String,
  serial: Schema.String,
  batch: Schema.NullOr(Schema.String),
  ownerUserId: Schema.NullOr(Schema.UUID),
  version: Schema.Int
})
export type GarmentRecord = typeof GarmentRecord.Type

/**
 * What `resolve` answers: the record and, when the caller asked for a view and the garment has no owner, the
 * facets of the groups it named — read with the record, so a fresh answer about an ownerless garment needs one
 * call to knowledge, not two (a decision about an ownerless garment depends on the garment only through its
 * having no owner: the caller can name the groups before it knows which garment the tag is).
 */
export const ResolvedGarment = Schema.Struct({
  ...GarmentRecord.fields,
  view: Schema.optional(FacetsView),
  /**
   * the garment's generation (Keys.ts) as knowledge read it with the record: with the record if it came from the
   * cache (served only while current at it), before the query if it was read by id, after the query if it was read
   * by its tag. The caller may key what it builds from the record by it without reading it again; absent ("0") when
   * the garment was never changed. Optional: a caller that does not use it reads the generation itself.
   */
  generation: Schema.optional(Schema.String)
})
export type ResolvedGarment = typeof ResolvedGarment.Type

export const TagRefSchema = Schema.Union(
  Schema.TaggedStruct("DigitalLink", {
    gtin: Schema.String,
    serial: Schema.String,
    batch: Schema.NullOr(Schema.String)
  }),
  Schema.TaggedStruct("GarmentId", { id: Schema.UUID })
)

export const ResolveRequest = Schema.Struct({
  ref: TagRefSchema,
  view: Schema.optional(Schema.Array(FacetGroup)).annotations({
    description: "also the view of these groups, when the garment has no owner"
  })
})
export type ResolveRequest = typeof ResolveRequest.Type

export class GarmentNotFound extends Schema.TaggedError<GarmentNotFound>()(
  "GarmentNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class VersionConflict extends Schema.TaggedError<VersionConflict>()(
  "VersionConflict",
  { message: Schema.String, details: Schema.Struct({ expected: Schema.Int, current: Schema.Int }) },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class DuplicateGarment extends Schema.TaggedError<DuplicateGarment>()(
  "DuplicateGarment",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class InvalidGarment extends Schema.TaggedError<InvalidGarment>()(
  "InvalidGarment",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

const IdParam = HttpApiSchema.param("id", Schema.UUID)

// the console's reads: lists with keyset paging, version history, scan history and its aggregates
export const GarmentListParams = Schema.Struct({
  q: Schema.optional(Schema.Trim.pipe(Schema.maxLength(100))).annotations({
    description: "matches name, serial, GTIN or batch (case-insensitive substring)"
  }),
  brandId: Schema.optional(Schema.UUID),
  status: Schema.optional(Schema.Literal("claimed", "unclaimed")),
  cursor: Schema.optional(Cursor),
  limit: Schema.optional(PageLimit)
})
export type GarmentListParams = typeof GarmentListParams.Type
export const GarmentPage = Schema.Struct({ garments: Schema.Array(Garment), nextCursor: Schema.NullOr(Schema.String) })

export const GarmentVersion = Schema.Struct({
  version: Schema.Int,
  name: Schema.String,
  batch: Schema.NullOr(Schema.String),
  facets: ProductFacets,
  changedBy: Schema.NullOr(Schema.UUID),
  createdAt: Schema.String
})
export type GarmentVersion = typeof GarmentVersion.Type

export const ScanRecord = Schema.Struct({
  id: Schema.UUID,
  scannedAt: Schema.String,
  role: Schema.String,
  intent: Schema.String,
  regionCode: Schema.String,
  /** scanned with a device API key (else by a person or anonymously) */
  byDevice: Schema.Boolean
})
export type ScanRecord = typeof ScanRecord.Type
export const ScanPage = Schema.Struct({ scans: Schema.Array(ScanRecord), nextCursor: Schema.NullOr(Schema.String) })
export const ScanSummaryParams = Schema.Struct({
  days: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 366)))
})
const Count = Schema.Struct({ key: Schema.String, count: Schema.Int })
export const ScanSummary = Schema.Struct({
  garmentId: Schema.UUID,
  since: Schema.String,
  total: Schema.Int,
  byRegion: Schema.Array(Count),
  byIntent: Schema.Array(Count),
  /** one row per UTC day × region × intent that had scans */
  daily: Schema.Array(
    Schema.Struct({ day: Schema.String, regionCode: Schema.String, intent: Schema.String, count: Schema.Int })
  )
})
export type ScanSummary = typeof ScanSummary.Type

export const GarmentsApi = HttpApiGroup.make("garments")
  .add(
    HttpApiEndpoint.post("create", "/v1/garments")
      .setPayload(GarmentCreate)
      .addSuccess(Garment, { status: 201 })
      .addError(DuplicateGarment)
      .addError(InvalidGarment)
  )
  .add(
    HttpApiEndpoint.patch("update")`/v1/garments/${IdParam}`
      .setPayload(GarmentPatch)
      .addSuccess(Garment)
      .addError(VersionConflict)
  )
  .add(HttpApiEndpoint.get("get")`/v1/garments/${IdParam}`.addSuccess(Garment))
  .add(
    HttpApiEndpoint.get("list", "/v1/garments")
      .setUrlParams(GarmentListParams)
      .addSuccess(GarmentPage)
      .annotate(
        OpenApi.Description,
        "newest first; brand staff see their brand's garments, owners their own, auditors and admins all (brandId filters)"
      )
  )
  .add(
    HttpApiEndpoint.get("versions")`/v1/garments/${IdParam}/versions`.addSuccess(
      Schema.Struct({ versions: Schema.Array(GarmentVersion) })
    )
  )
  .add(
    HttpApiEndpoint.get("scans")`/v1/garments/${IdParam}/scans`
      .setUrlParams(Schema.Struct({ cursor: Schema.optional(Cursor), limit: Schema.optional(PageLimit) }))
      .addSuccess(ScanPage)
  )
  .add(
    HttpApiEndpoint.get("scanSummary")`/v1/garments/${IdParam}/scans/summary`
      .setUrlParams(ScanSummaryParams)
      .addSuccess(ScanSummary)
      .annotate(OpenApi.Description, "scans of the last `days` (default 30) by region, by intent and per day")
  )
  .add(HttpApiEndpoint.post("import", "/v1/garments/import").setPayload(ImportRequest).addSuccess(ImportResult))
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .addError(GarmentNotFound)
  .annotate(OpenApi.Description, "garments and their facets; brand staff write their own brand's garments")

export const KnowledgeInternalApi = HttpApiGroup.make("internal")
  .add(
    HttpApiEndpoint.post("resolve", "/internal/garments/resolve").setPayload(ResolveRequest).addSuccess(ResolvedGarment)
  )
  .add(
    HttpApiEndpoint.post("view", "/internal/garments/view")
      .setPayload(
        Schema.Struct({
          garmentId: Schema.UUID,
          allowed: Schema.Array(FacetGroup),
          generation: Schema.optional(
            Generation.annotations({
              description:
                "the garment's generation the caller holds (read with its record): the view is read and kept under it, " +
                "so knowledge need not read it again; without it, knowledge reads the current one"
            })
          )
        })
      )
      .addSuccess(FacetsView)
  )
  .addError(GarmentNotFound)

/** The internal calls batched: many resolves and views in one request (shared/http/Batch.ts). */
export const KnowledgeInternalBatchApi = batchGroup("resolve, view")

/** The knowledge service's HTTP contract. */
export const KnowledgeApi = HttpApi.make("knowledge")
  .add(HealthApi)
  .add(GarmentsApi)
  .add(KnowledgeInternalApi)
  .add(KnowledgeInternalBatchApi)
  .annotate(OpenApi.Title, "Brand.Me knowledge")
  .annotate(OpenApi.Description, Services.knowledge.description)
