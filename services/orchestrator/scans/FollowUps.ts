import { DateTime } from "effect"
import { MaxScansPerJob, type ScanEvent } from "../../../shared/domain/Scan.js"
import type { AppendAuditEntry, SendNotification } from "../Payloads.js"
import { jobOptionsFor, safeJobId, TaskNames } from "../Routing.js"
import type { ScanRecorded } from "./Store.js"

/**
 * What a persisted scan sets off besides its row and its `scan.recorded`: its audit entry and, for the intents
 * an owner is told about, the owner's notification. The batcher builds them per scan: it appends the audit
 * entries itself and adds the notifications as a follow-up job.
 */

/**
 * The audit entry of a scan, straight from its event (its payload's key order is part of the digest: keep it).
 * `outcome` is the decision's (`outcomeOf`), computed once by the batcher for the scan's message too.
 */
export const scanAuditEntry = (e: ScanEvent, outcome: ScanRecorded["outcome"]): AppendAuditEntry => ({
  idempotencyKey: `scan-${e.scanId}`,
  kind: "scan.recorded",
  actor:
    e.scannerUserId !== null
      ? { _tag: "Person", subjectId: e.scannerUserId, id: e.scannerUserId }
      : e.deviceId !== null
        ? { _tag: "Public", id: `device:${e.deviceId}` }
        : { _tag: "None" },
  subject: { _tag: "Public", id: `garment:${e.garmentId}` },
  payload: {
    scanId: e.scanId,
    garmentId: e.garmentId,
    intent: e.intent,
    role: e.role,
    regionCode: e.regionCode,
    outcome,
    policyVersion: e.decision.policyVersion
  },
  timeMs: DateTime.toEpochMillis(e.scannedAt)
})

/** Intents whose scans the garment's owner is told about. */
export const notifiedIntents: ReadonlySet<string> = new Set(["ownership_transfer", "authenticity_check"])

export const scanNotification = (
  s: { readonly scanId: string; readonly garmentId: string; readonly intent: string; readonly regionCode?: string },
  ownerUserId: string | null,
  brandId: string | null
): SendNotification => ({
  idempotencyKey: `scan-${s.scanId}`,
  kind: `scan.${s.intent}`,
  userId: ownerUserId,
  brandId,
  payload: { scanId: s.scanId, garmentId: s.garmentId, intent: s.intent, regionCode: s.regionCode ?? null }
})

/** Splits follow-ups into jobs of at most MaxScansPerJob items (a batch may hold more scans). */
const chunks = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  if (items.length <= MaxScansPerJob) return [items]
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += MaxScansPerJob) out.push(items.slice(i, i + MaxScansPerJob))
  return out
}

/**
 * The notification jobs of a written batch: ONE job carrying the batch's owner notifications (split at
 * MaxScansPerJob), whatever number of persist jobs the batch served. Its id comes from the persist jobs (`jobIds`,
 * in batch order), so a retried batch of the same jobs adds no second copy; a retried job that lands in a
 * differently composed batch may add an overlapping job, and each notification's own idempotency key keeps it
 * from taking effect twice.
 */
export const notificationJobs = (jobIds: ReadonlyArray<string>, notes: ReadonlyArray<SendNotification>) => {
  const [first] = jobIds
  if (first === undefined || notes.length === 0) return []
  const key = jobIds.length === 1 ? [first] : [first, `${jobIds.length}jobs`]
  return chunks(notes).map((part, i) => ({
    name: TaskNames.sendNotification,
    data: { notifications: part },
    opts: jobOptionsFor(TaskNames.sendNotification, {
      jobId: safeJobId("notify", ...key, ...(i > 0 ? [`${i}`] : []))
    })
  }))
}
