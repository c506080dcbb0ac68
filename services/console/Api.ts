import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { CheckpointView, ConsistencyView, EntryView } from "../compliance/AuditViews.js"

const index = HttpApiSchema.param("index", Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()))
const Size = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** The compliance API could not be reached (or answered garbage); the auditor page shows this message. */
export class AuditUpstreamUnavailable extends Schema.TaggedError<AuditUpstreamUnavailable>()(
  "AuditUpstreamUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {}

/**
 * The auditor page and its same-origin proxy: the page's script calls /v1/audit/* on the console, which forwards
 * each call (with the caller's Authorization header) to the compliance API and returns its answer unchanged;
 * the compliance service checks the auditor role. Inputs are validated here too, so bad ones never leave.
 */
export const AuditorApi = HttpApiGroup.make("auditor")
  .add(HttpApiEndpoint.get("page", "/auditor").addSuccess(HttpApiSchema.Text({ contentType: "text/html" })))
  .add(
    HttpApiEndpoint.get("script", "/auditor.js").addSuccess(
      HttpApiSchema.Text({ contentType: "text/javascript; charset=utf-8" })
    )
  )
  .add(HttpApiEndpoint.get("checkpoint", "/v1/audit/checkpoint").addSuccess(CheckpointView))
  .add(HttpApiEndpoint.get("entry")`/v1/audit/entries/${index}`.addSuccess(EntryView))
  .add(
    HttpApiEndpoint.get("consistency", "/v1/audit/consistency")
      .setUrlParams(Schema.Struct({ from: Size, to: Size }))
      .addSuccess(ConsistencyView)
  )
  .addError(AuditUpstreamUnavailable)

/** The console service's HTTP contract. */
export const ConsoleApi = HttpApi.make("console")
  .add(HealthApi)
  .add(AuditorApi)
  .annotate(OpenApi.Title, "Brand.Me console")
  .annotate(OpenApi.Description, Services.console.description)
