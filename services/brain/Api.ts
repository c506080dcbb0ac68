import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Intent, Role } from "../../shared/domain/Scan.js"
import { batchGroup } from "../../shared/http/Batch.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** How the scanner relates to the scanned garment (computed by the gateway from the token and the garment). */
export const Relation = Schema.Literal("owner", "own_brand", "none")
export type Relation = typeof Relation.Type

export const IntentRequest = Schema.Struct({
  role: Role,
  relation: Relation,
  hint: Schema.optional(Intent)
})
export type IntentRequest = typeof IntentRequest.Type

export const IntentResolution = Schema.Struct({ intent: Intent })

export class IntentNotAllowed extends Schema.TaggedError<IntentNotAllowed>()(
  "IntentNotAllowed",
  { message: Schema.String, details: Schema.Struct({ intent: Intent, role: Role, relation: Relation }) },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** Service-to-service: the gateway asks brain for the intent of a scan. */
export const BrainInternalApi = HttpApiGroup.make("internal")
  .add(
    HttpApiEndpoint.post("resolveIntent", "/internal/intents")
      .setPayload(IntentRequest)
      .addSuccess(IntentResolution)
      .addError(IntentNotAllowed)
  )
  .annotate(OpenApi.Description, "internal calls from the gateway")

/** The internal calls batched: many intents in one request (shared/http/Batch.ts). */
export const BrainInternalBatchApi = batchGroup("resolveIntent")

/** The brain service's HTTP contract. */
export const BrainApi = HttpApi.make("brain")
  .add(HealthApi)
  .add(BrainInternalApi)
  .add(BrainInternalBatchApi)
  .annotate(OpenApi.Title, "Brand.Me brain")
  .annotate(OpenApi.Description, Services.brain.description)
