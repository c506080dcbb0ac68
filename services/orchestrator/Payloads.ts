import { Schema } from "effect"
import { ScanEvent } from "../../shared/domain/Scan.js"
import { Principal } from "../../shared/auth/Tokens.js"

/** The payload schema of every task; workers decode job data with these before doing anything. */
export const Party = Schema.Union(
  Schema.TaggedStruct("None", {}),
  Schema.TaggedStruct("Public", { id: Schema.String.pipe(Schema.minLength(1)) }),
  Schema.TaggedStruct("Person", { subjectId: Schema.UUID, id: Schema.String })
)

export const AppendAuditEntry = Schema.Struct({
  idempotencyKey: Schema.String.pipe(Schema.minLength(1)),
  kind: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9._-]{0,63}$/)),
  actor: Party,
  subject: Party,
  payload: Schema.Unknown,
  timeMs: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
})
export type AppendAuditEntry = typeof AppendAuditEntry.Type

export const FetchFacets = Schema.Struct({ garmentId: Schema.UUID })

export const SubmitChainAnchor = Schema.Struct({
  origin: Schema.String.pipe(Schema.minLength(1)),
  treeSize: Schema.Number.pipe(Schema.int(), Schema.positive()),
  rootHex: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))
})

export const SendNotification = Schema.Struct({
  idempotencyKey: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)),
  kind: Schema.String.pipe(Schema.minLength(1)),
  /** in-app notification for this user, if any */
  userId: Schema.NullOr(Schema.UUID),
  /** webhooks of this brand subscribed to `kind`, if any */
  brandId: Schema.NullOr(Schema.UUID),
  payload: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type SendNotification = typeof SendNotification.Type

export const DeliverWebhook = Schema.Struct({
  subscriptionId: Schema.UUID,
  event: Schema.String,
  deliveryId: Schema.String,
  body: Schema.String
})

export const NotifyScan = Schema.Struct({ scanId: Schema.UUID, garmentId: Schema.UUID, intent: Schema.String })

export const ImportGarments = Schema.Struct({ batchId: Schema.String })
/** `item` is validated by knowledge (GarmentCreate), item by item */
export const ImportGarment = Schema.Struct({ principal: Principal, item: Schema.Unknown })

/** Scheduled maintenance jobs carry nothing that matters; any object is accepted. */
export const Maintenance = Schema.Struct({})

export { ScanEvent }
