import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { Intent } from "../../shared/domain/Scan.js"
import { HealthApi, HealthReport } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The orchestrator service's HTTP contract. */
export const OrchestratorApi = HttpApi.make("orchestrator")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me orchestrator")
  .annotate(OpenApi.Description, Services.orchestrator.description)

/**
 * For producers of scan jobs: the persist_scan_event job shape, its queue, attempts and
 * jittered backoff, all from the orchestrator's routing table (the one place that says them).
 */
export { persistScanJobs, queueFor, TaskNames } from "./Routing.js"

/** For the gateway: the scan log it records accepted scans in (the orchestrator relays it into those jobs). */
export { type LoggedScan, scanLogEntries, ScanLogField, scanLogKey } from "./ScanLog.js"

/** For producers of audit entries (policy versions, jurisdiction changes): one append_audit_entry job. */
export { auditEntryJob } from "./Routing.js"
export type { AppendAuditEntry } from "./Payloads.js"
// ---- the console's groups (mounted on the gateway): webhook subscriptions, queues and dead letters ------

/** Events a brand can subscribe to: the scan notifications the notifications worker sends (`scan.<intent>`). */
export const WebhookEvent = Schema.TemplateLiteral("scan.", Intent)
export type WebhookEvent = typeof WebhookEvent.Type

export const WebhookSubscription = Schema.Struct({
  id: Schema.UUID,
  brandId: Schema.UUID,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  enabled: Schema.Boolean,
  createdAt: Schema.String
})
export type WebhookSubscription = typeof WebhookSubscription.Type
const WebhookUrl = Schema.String.pipe(
  Schema.maxLength(2000),
  Schema.pattern(/^https?:\/\/[^\s/]+(\/\S*)?$/, { message: () => "must be an http(s) URL" })
)
const WebhookEvents = Schema.Array(WebhookEvent).pipe(Schema.minItems(1), Schema.maxItems(20))
/** The subscription and its signing secret, shown once (only its sealed form is stored). */
export const WebhookWithSecret = Schema.Struct({ subscription: WebhookSubscription, secret: Schema.String })
export const WebhookDelivery = Schema.Struct({
  id: Schema.String,
  deliveryId: Schema.String,
  event: Schema.String,
  attempt: Schema.Int,
  status: Schema.Int,
  ok: Schema.Boolean,
  error: Schema.NullOr(Schema.String),
  createdAt: Schema.String
})

export class WebhookNotFound extends Schema.TaggedError<WebhookNotFound>()(
  "WebhookNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class WebhookInvalid extends Schema.TaggedError<WebhookInvalid>()(
  "WebhookInvalid",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

const WebhookId = Schema.Struct({ id: Schema.UUID })

export const WebhooksApi = HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.get("list", "/v1/webhooks")
      .setUrlParams(Schema.Struct({ brandId: Schema.optional(Schema.UUID) }))
      .addSuccess(Schema.Struct({ subscriptions: Schema.Array(WebhookSubscription) }))
  )
  .add(
    HttpApiEndpoint.post("create", "/v1/webhooks")
      .setPayload(
        Schema.Struct({ url: WebhookUrl, events: WebhookEvents, brandId: Schema.optional(Schema.UUID) }).annotations({
          description: "brandId: admins only; brand staff subscribe for their own brand"
        })
      )
      .addSuccess(WebhookWithSecret, { status: 201 })
      .addError(WebhookInvalid)
  )
  .add(
    HttpApiEndpoint.patch("update", "/v1/webhooks/:id")
      .setPath(WebhookId)
      .setPayload(
        Schema.Struct({
          url: Schema.optional(WebhookUrl),
          events: Schema.optional(WebhookEvents),
          enabled: Schema.optional(Schema.Boolean)
        })
      )
      .addSuccess(WebhookSubscription)
  )
  .add(HttpApiEndpoint.del("remove", "/v1/webhooks/:id").setPath(WebhookId).addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.post("rotate", "/v1/webhooks/:id/rotate").setPath(WebhookId).addSuccess(WebhookWithSecret))
  .add(
    HttpApiEndpoint.get("deliveries", "/v1/webhooks/:id/deliveries")
      .setPath(WebhookId)
      .addSuccess(Schema.Struct({ deliveries: Schema.Array(WebhookDelivery) }))
  )
  .addError(WebhookNotFound)
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .annotate(OpenApi.Description, "a brand's webhook subscriptions: create, change, rotate the secret, deliveries")

export const QueueStatus = Schema.Struct({
  queue: Schema.String,
  waiting: Schema.Int,
  active: Schema.Int,
  delayed: Schema.Int,
  completed: Schema.Int,
  failed: Schema.Int,
  workers: Schema.NullOr(Schema.Int)
})
export const DeadLetterView = Schema.Struct({
  id: Schema.String,
  queue: Schema.String,
  name: Schema.String,
  jobId: Schema.String,
  error: Schema.String,
  attempts: Schema.Int,
  unrecoverable: Schema.Boolean,
  failedAt: Schema.String,
  data: Schema.Unknown
})
export const ServiceStatus = Schema.Struct({
  service: Schema.String,
  url: Schema.String,
  /** the service's /health answer, or "unreachable" */
  status: Schema.Literal("ok", "degraded", "unhealthy", "unreachable"),
  latencyMs: Schema.Number,
  error: Schema.NullOr(Schema.String),
  report: Schema.NullOr(HealthReport)
})

export class DeadLetterNotFound extends Schema.TaggedError<DeadLetterNotFound>()(
  "DeadLetterNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class OpsUnavailable extends Schema.TaggedError<OpsUnavailable>()(
  "OpsUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

export const OpsApi = HttpApiGroup.make("ops")
  .add(
    HttpApiEndpoint.get("services", "/v1/ops/services").addSuccess(
      Schema.Struct({ services: Schema.Array(ServiceStatus) })
    )
  )
  .add(HttpApiEndpoint.get("queues", "/v1/ops/queues").addSuccess(Schema.Struct({ queues: Schema.Array(QueueStatus) })))
  .add(
    HttpApiEndpoint.get("deadLetters", "/v1/ops/dead-letters").addSuccess(
      Schema.Struct({ deadLetters: Schema.Array(DeadLetterView) })
    )
  )
  .add(
    HttpApiEndpoint.post("replay", "/v1/ops/dead-letters/:id/replay")
      .setPath(Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(400)) }))
      .addSuccess(Schema.Struct({ replayed: Schema.Boolean }))
      .addError(DeadLetterNotFound)
  )
  .addError(OpsUnavailable)
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .annotate(OpenApi.Description, "for admins (SRE): every service's health, queue depths, dead letters and replay")
