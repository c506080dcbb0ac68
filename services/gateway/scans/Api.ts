import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Unauthorized } from "../../../shared/auth/Tokens.js"
import { InvalidTag } from "../../../shared/domain/DigitalLink.js"
import { Decision, Intent, RegionCode } from "../../../shared/domain/Scan.js"
import { IntentNotAllowed } from "../../brain/Api.js"
import { FacetsView, GarmentNotFound } from "../../knowledge/Api.js"
import { UpstreamError } from "../../../shared/http/Upstream.js"

/**
 * The scan contract: `POST /v1/scans`, its payload, headers, answer and errors (each error class carries
 * its HTTP status). Served by the scan lane (Lane.ts) alone; the gateway's API mounts the group for its
 * OpenAPI document and clients.
 */
export const ScanRequest = Schema.Struct({
  tag: Schema.String.pipe(Schema.maxLength(4096)).annotations({
    description: "GS1 Digital Link URI (https://<domain>/01/<GTIN>/21/<serial>) or a garment id"
  }),
  context: Schema.optional(
    Schema.Struct({
      region: Schema.optional(
        RegionCode.annotations({
          description: "the region the client declares: it may only make the decision stricter, never looser"
        })
      ),
      locale: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/))),
      intent: Schema.optional(Intent)
    })
  )
})
export type ScanRequest = typeof ScanRequest.Type

export const GarmentSummary = Schema.Struct({
  id: Schema.UUID,
  brandId: Schema.UUID,
  name: Schema.String,
  gtin: Schema.String,
  serial: Schema.String,
  batch: Schema.NullOr(Schema.String)
})

export const ScanResult = Schema.Struct({
  scanId: Schema.UUID,
  scannedAt: Schema.String,
  garment: GarmentSummary,
  intent: Intent,
  regionCode: RegionCode.annotations({
    description: "the scanner's region: our ingress's, else the declared one, else ZZ (unknown)"
  }),
  decision: Decision,
  facets: FacetsView
})
export type ScanResult = typeof ScanResult.Type

export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()(
  "IdempotencyConflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class QueueUnavailable extends Schema.TaggedError<QueueUnavailable>()(
  "QueueUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

export const ScanHeaders = Schema.Struct({
  authorization: Schema.optional(Schema.String),
  "idempotency-key": Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  traceparent: Schema.optional(Schema.String)
})

export const ScansApi = HttpApiGroup.make("scans")
  .add(
    HttpApiEndpoint.post("scan", "/v1/scans")
      .setHeaders(ScanHeaders)
      .setPayload(ScanRequest)
      .addSuccess(ScanResult)
      .addError(InvalidTag)
      .addError(Unauthorized)
      .addError(IntentNotAllowed)
      .addError(GarmentNotFound)
      .addError(IdempotencyConflict)
      .addError(UpstreamError)
      .addError(QueueUnavailable)
      .annotate(
        OpenApi.Description,
        "Scan a garment tag. Anonymous scans are role public; a Bearer token gives the caller's role. " +
          "Idempotency-Key returns the same scan for 24 h. Regime: the strictest of the scanner's region (from our " +
          "ingress's geo header; unknown = the strictest regime), the garment owner's jurisdiction and context.region " +
          "(a declared region may only make the decision stricter). See docs/privacy.md."
      )
  )
  .annotate(OpenApi.Description, "scans of garment tags")
