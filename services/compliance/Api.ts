import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Cursor, PageLimit } from "../../shared/http/Paging.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { AuditEntryNotFound, AuditNoCheckpoint, AuditRangeInvalid, AuditStoreError } from "./AuditErrors.js"
import { CheckpointView, ConsistencyView, EntryView } from "./AuditViews.js"

// the audit log's views and store error are part of the contract (the console and the passport page read them)
export { AuditStoreError, CheckpointView, ConsistencyView, EntryView }

const index = HttpApiSchema.param("index", Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()))
const Size = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** The tamper-evident audit log, for auditors: the signed checkpoint, entries with inclusion proofs, consistency. */
export const AuditApi = HttpApiGroup.make("audit")
  .add(HttpApiEndpoint.get("checkpoint", "/v1/audit/checkpoint").addSuccess(CheckpointView).addError(AuditNoCheckpoint))
  .add(
    HttpApiEndpoint.get("entry")`/v1/audit/entries/${index}`
      .addSuccess(EntryView)
      .addError(AuditEntryNotFound)
      .addError(AuditNoCheckpoint)
      .addError(AuditRangeInvalid)
  )
  .add(
    HttpApiEndpoint.get("consistency", "/v1/audit/consistency")
      .setUrlParams(Schema.Struct({ from: Size, to: Size }))
      .addSuccess(ConsistencyView)
      .addError(AuditRangeInvalid)
  )
  .addError(AuditStoreError)
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)

// escalations: what the agentic detectors and the integrity checker opened, for brands and admins --------
export const Escalation = Schema.Struct({
  id: Schema.UUID,
  kind: Schema.String,
  severity: Schema.Literal("info", "warning", "critical"),
  subject: Schema.String,
  garmentId: Schema.NullOr(Schema.UUID),
  brandId: Schema.NullOr(Schema.UUID),
  details: Schema.Unknown,
  status: Schema.Literal("open", "acknowledged", "resolved"),
  createdAt: Schema.String,
  acknowledgedAt: Schema.NullOr(Schema.String),
  acknowledgedBy: Schema.NullOr(Schema.UUID),
  note: Schema.NullOr(Schema.String)
})
export type Escalation = typeof Escalation.Type

export class EscalationNotFound extends Schema.TaggedError<EscalationNotFound>()(
  "EscalationNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class EscalationConflict extends Schema.TaggedError<EscalationConflict>()(
  "EscalationConflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export const EscalationsApi = HttpApiGroup.make("escalations")
  .add(
    HttpApiEndpoint.get("list", "/v1/escalations")
      .setUrlParams(
        Schema.Struct({
          status: Schema.optional(Schema.Literal("open", "acknowledged", "resolved")),
          cursor: Schema.optional(Cursor),
          limit: Schema.optional(PageLimit)
        })
      )
      .addSuccess(Schema.Struct({ escalations: Schema.Array(Escalation), nextCursor: Schema.NullOr(Schema.String) }))
      .annotate(OpenApi.Description, "newest first; brand staff see those about their brand's garments")
  )
  .add(
    HttpApiEndpoint.post("acknowledge", "/v1/escalations/:id/acknowledge")
      .setPath(Schema.Struct({ id: Schema.UUID }))
      .setPayload(Schema.Struct({ note: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(2000)) }))
      .addSuccess(Escalation)
      .addError(EscalationNotFound)
      .addError(EscalationConflict)
  )
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .annotate(OpenApi.Description, "clone-detection and integrity escalations: list, acknowledge with a note")

/** The compliance service's HTTP contract. */
export const ComplianceApi = HttpApi.make("compliance")
  .add(HealthApi)
  .add(AuditApi)
  .add(EscalationsApi)
  .annotate(OpenApi.Title, "Brand.Me compliance")
  .annotate(OpenApi.Description, Services.compliance.description)
