import { Schema } from "effect"
import { MaxScansPerJob, ScanEvent } from "../../shared/domain/Scan.js"

/** The payload schema of every task; workers decode job data with these before doing anything. */
export const Party = Schema.Union(
  Schema.TaggedStruct("None", {}),
  Schema.TaggedStruct("Public", { id: Schema.String.pipe(Schema.minLength(1)) }),
  Schema.TaggedStruct("Person", { subjectId: Schema.UUID, id: Schema.String })
)

/** append_audit_entry: one entry (policy versions, jurisdiction changes; `auditEntryJob` builds the job). */
export const AppendAuditEntry = Schema.Struct({
  idempotencyKey: Schema.String.pipe(Schema.minLength(1)),
  kind: Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9._-]{0,63}$/)),
  actor: Party,
  subject: Party,
  payload: Schema.Unknown,
  timeMs: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
})
export type AppendAuditEntry = typeof AppendAuditEntry.Type

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

/** send_notification: many notifications (the scans worker's follow-up); each is stored at most once by its idempotency key. */
export const SendNotifications = Schema.Struct({
  notifications: Schema.Array(SendNotification).pipe(Schema.minItems(1), Schema.maxItems(MaxScansPerJob))
})

export const DeliverWebhook = Schema.Struct({
  subscriptionId: Schema.UUID,
  event: Schema.String,
  deliveryId: Schema.String,
  body: Schema.String
})

/** Scheduled maintenance jobs carry nothing that matters; any object is accepted. */
export const Maintenance = Schema.Struct({})

/**
 * persist_scan_event: the scans of the job (`ScanBatch` once decoded). Only the envelope is checked here; each
 * scan is decoded on its own so one malformed scan is dead-lettered alone and the others are persisted.
 */
export const ScanBatchEnvelope = Schema.Struct({
  scans: Schema.Array(Schema.Unknown).pipe(Schema.minItems(1), Schema.maxItems(MaxScansPerJob))
})

export { ScanEvent }
