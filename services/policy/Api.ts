import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { Decision, Generation, Intent, RegionCode, Role } from "../../shared/domain/Scan.js"
import { batchGroup } from "../../shared/http/Batch.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { Relation } from "../brain/Api.js"
import { ConsentPurposes } from "./Rules.js"

export const DecisionRequest = Schema.Struct({
  garmentId: Schema.UUID,
  ownerUserId: Schema.NullOr(Schema.UUID),
  role: Role,
  relation: Relation,
  intent: Intent,
  /** the scanner's region as our ingress saw it; null = unknown (the strictest regime applies) */
  scannerRegion: Schema.NullOr(RegionCode),
  /** the region the client declared (context.region): it may only make the decision stricter */
  claimedRegion: Schema.NullOr(RegionCode),
  ownerGeneration: Schema.optional(
    Generation.annotations({
      description:
        "the owner's generation the caller holds (read before this call): the decision is read and kept under it, " +
        "so policy need not read it again; without it, policy reads the current one"
    })
  )
})
export type DecisionRequest = typeof DecisionRequest.Type

export const ConsentPurpose = Schema.Literal(...ConsentPurposes)

export const ConsentChange = Schema.Struct({
  garmentId: Schema.optionalWith(Schema.NullOr(Schema.UUID), { default: () => null }),
  purpose: ConsentPurpose,
  granted: Schema.Boolean
}).annotations({ description: "grant (granted: true) or withdraw (false); garmentId null = all my garments" })

export const ConsentRecord = Schema.Struct({
  id: Schema.String,
  ownerUserId: Schema.UUID,
  garmentId: Schema.NullOr(Schema.UUID),
  purpose: Schema.String,
  granted: Schema.Boolean,
  policyVersion: Schema.String,
  createdAt: Schema.String
})
export type ConsentRecord = typeof ConsentRecord.Type

export const ConsentList = Schema.Struct({ current: Schema.Array(ConsentRecord) })

export class GarmentNotFound extends Schema.TaggedError<GarmentNotFound>()(
  "GarmentNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export const ConsentsApi = HttpApiGroup.make("consents")
  .add(
    HttpApiEndpoint.post("change", "/v1/consents")
      .setPayload(ConsentChange)
      .addSuccess(ConsentRecord, { status: 201 })
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(GarmentNotFound)
  )
  .add(HttpApiEndpoint.get("list", "/v1/consents").addSuccess(ConsentList).addError(Unauthorized).addError(Forbidden))
  .middleware(Authentication)
  .annotate(OpenApi.Description, "an owner's consents: append-only grants and withdrawals")

export const PolicyInternalApi = HttpApiGroup.make("internal").add(
  HttpApiEndpoint.post("decide", "/internal/decisions").setPayload(DecisionRequest).addSuccess(Decision)
)

/** The internal calls batched: many decisions in one request (shared/http/Batch.ts). */
export const PolicyInternalBatchApi = batchGroup("decide")

/** The policy service's HTTP contract. */
export const PolicyApi = HttpApi.make("policy")
  .add(HealthApi)
  .add(ConsentsApi)
  .add(PolicyInternalApi)
  .add(PolicyInternalBatchApi)
  .annotate(OpenApi.Title, "Brand.Me policy")
  .annotate(OpenApi.Description, Services.policy.description)
