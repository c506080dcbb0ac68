import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { AuditEntryNotFound, AuditNoCheckpoint, AuditRangeInvalid, AuditStoreError } from "./AuditErrors.js"
import { CheckpointView, ConsistencyView, EntryView } from "./AuditViews.js"

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
  .addError(Unauthorized)
  .addError(Forbidden)

/** The compliance service's HTTP contract. */
export const ComplianceApi = HttpApi.make("compliance")
  .add(HealthApi)
  .add(AuditApi)
  .annotate(OpenApi.Title, "Brand.Me compliance")
  .annotate(OpenApi.Description, Services.compliance.description)
