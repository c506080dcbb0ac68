import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { AnchorStatus } from "./AnchorRepo.js"

export const AnchorView = Schema.Struct({
  id: Schema.String,
  origin: Schema.String,
  treeSize: Schema.Number,
  rootHex: Schema.String,
  provider: Schema.String,
  txId: Schema.String,
  status: AnchorStatus,
  attempts: Schema.Number,
  lastError: Schema.NullOr(Schema.String),
  submittedAt: Schema.NullOr(Schema.String),
  confirmedAt: Schema.NullOr(Schema.String),
  confirmations: Schema.NullOr(Schema.Number),
  cborHex: Schema.String
})
export type AnchorView = typeof AnchorView.Type

export class AnchorNotFound extends Schema.TaggedError<AnchorNotFound>()(
  "AnchorNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

const treeSizeParam = HttpApiSchema.param("treeSize", Schema.NumberFromString.pipe(Schema.int(), Schema.positive()))

/** Anchors of audit checkpoints on Cardano (auditor and admin roles). */
export const AnchorsApi = HttpApiGroup.make("anchors")
  .add(
    HttpApiEndpoint.get("list", "/v1/chain/anchors")
      .setUrlParams(
        Schema.Struct({
          status: Schema.optional(AnchorStatus),
          limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)))
        })
      )
      .addSuccess(Schema.Struct({ anchors: Schema.Array(AnchorView) }))
  )
  .add(
    HttpApiEndpoint.get("byTreeSize")`/v1/chain/anchors/${treeSizeParam}`
      .addSuccess(AnchorView)
      .addError(AnchorNotFound)
  )
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)

/** The chain service's HTTP contract. */
export const ChainApi = HttpApi.make("chain")
  .add(HealthApi)
  .add(AnchorsApi)
  .annotate(OpenApi.Title, "Brand.Me chain")
  .annotate(OpenApi.Description, Services.chain.description)
