import { Schema } from "effect"

/** Roles a caller can have; anonymous scanners are `public`. */
export const Role = Schema.Literal("public", "owner", "brand", "auditor", "admin")
export type Role = typeof Role.Type

/** Intents brain resolves a scan to. */
export const Intent = Schema.Literal(
  "public_view",
  "owner_view",
  "authenticity_check",
  "care_instructions",
  "ownership_transfer",
  "brand_inspection",
  "audit"
)
export type Intent = typeof Intent.Type

/** Facet groups of a garment that policy allows or denies. */
export const FacetGroup = Schema.Literal(
  "materials",
  "origin",
  "supply_chain",
  "care",
  "certifications",
  "ownership_history",
  "owner_identity"
)
export type FacetGroup = typeof FacetGroup.Type

export const RegionCode = Schema.String.pipe(
  Schema.pattern(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, { message: () => "region must look like FR or US-CA" })
)

/**
 * A cache generation as a caller carries it: a garment's (knowledge/Keys.ts) or an owner's (policy/Keys.ts), the
 * decimal value of its Redis counter. A service handed one reads and keeps its cached answer under it.
 */
export const Generation = Schema.String.pipe(Schema.pattern(/^\d{1,20}$/))

export const DecisionEntry = Schema.Struct({ group: FacetGroup, reason: Schema.String })

export const Decision = Schema.Struct({
  regime: Schema.Literal("gdpr", "ccpa", "default"),
  /** why this regime, e.g. "region unknown: strictest regime" (optional: events queued before it existed) */
  reason: Schema.optional(Schema.String),
  /** the version of the policy rules that decided (services/policy/Rules.ts) */
  policyVersion: Schema.String,
  allowed: Schema.Array(DecisionEntry),
  denied: Schema.Array(DecisionEntry)
})
export type Decision = typeof Decision.Type

/**
 * The scan event the gateway puts on the `scans` queue and the orchestrator persists exactly once
 * (the scan id is the key). Carries trace context so one scan is one trace.
 */
export const ScanEvent = Schema.Struct({
  scanId: Schema.UUID,
  garmentId: Schema.UUID,
  scannerUserId: Schema.NullOr(Schema.UUID),
  deviceId: Schema.NullOr(Schema.UUID),
  role: Role,
  intent: Intent,
  regionCode: RegionCode,
  decision: Decision,
  scannedAt: Schema.DateTimeUtc,
  traceparent: Schema.optional(Schema.String)
})
export type ScanEvent = typeof ScanEvent.Type
export type ScanEventEncoded = typeof ScanEvent.Encoded

/** The most scans one persist_scan_event job may carry (a job's data stays well under 1 MB). */
export const MaxScansPerJob = 1000

/**
 * A persist_scan_event job (its one shape): the scans the gateway accepted in one event-loop turn.
 * Each scan is still persisted exactly once by its scan id.
 */
export const ScanBatch = Schema.Struct({
  scans: Schema.Array(ScanEvent).pipe(Schema.minItems(1), Schema.maxItems(MaxScansPerJob))
})
export type ScanBatch = typeof ScanBatch.Type
export type ScanBatchEncoded = typeof ScanBatch.Encoded

/** NATS subjects: `brandme.<domain>.<event>`. */
export const Subjects = {
  scanRecorded: "brandme.scan.recorded",
  consentChanged: "brandme.consent.changed",
  garmentUpdated: "brandme.garment.updated",
  escalationOpened: "brandme.compliance.escalation_opened",
  checkpointSigned: "brandme.audit.checkpoint_signed"
} as const

/** a platform subject (or wildcard) under a process's subject prefix (NATS_SUBJECT_PREFIX; empty: as it is) */
export const subjectIn = (prefix: string, subject: string): string => (prefix === "" ? subject : `${prefix}.${subject}`)

/** Queue task names (the routing table that maps each to a queue lives in the orchestrator). */
export const Tasks = {
  persistScanEvent: "persist_scan_event",
  appendAuditEntry: "append_audit_entry",
  submitChainAnchor: "submit_chain_anchor",
  sendNotification: "send_notification"
} as const
