import { DateTime } from "effect"
import { MaxScansPerJob, type ScanEvent } from "../../../shared/domain/Scan.js"
import type { AppendAuditEntry, ScanAuditItem, SendNotification } from "../Payloads.js"
import { jobOptionsFor, safeJobId, TaskNames } from "../Routing.js"

/**
 * What a persisted scan sets off besides its row and its `scan.recorded`: its audit entry and, for the intents
 * an owner is told about, the owner's notification. The batcher builds them per scan and adds them as
 * follow-up jobs; the audit task turns each compact item back into the scan's entry.
 */

/** The compact audit item of a scan (what the scans worker's follow-up job carries). */
export const scanAuditItem = (e: ScanEvent, outcome: ScanAuditItem["outcome"]): ScanAuditItem => ({
  scanId: e.scanId,
  garmentId: e.garmentId,
  scannerUserId: e.scannerUserId,
  deviceId: e.deviceId,
  intent: e.intent,
  role: e.role,
  regionCode: e.regionCode,
  outcome,
  policyVersion: e.decision.policyVersion,
  timeMs: DateTime.toEpochMillis(e.scannedAt)
})

/** The audit entry of a scan (its payload's key order is part of the digest: keep it). */
export const scanAuditEntry = (s: ScanAuditItem): AppendAuditEntry => ({
  idempotencyKey: `scan-${s.scanId}`,
  kind: "scan.recorded",
  actor:
    s.scannerUserId !== null
      ? { _tag: "Person", subjectId: s.scannerUserId, id: s.scannerUserId }
      : s.deviceId !== null
        ? { _tag: "Public", id: `device:${s.deviceId}` }
        : { _tag: "None" },
  subject: { _tag: "Public", id: `garment:${s.garmentId}` },
  payload: {
    scanId: s.scanId,
    garmentId: s.garmentId,
    intent: s.intent,
    role: s.role,
    regionCode: s.regionCode,
    outcome: s.outcome,
    policyVersion: s.policyVersion
  },
  timeMs: s.timeMs
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
 * The follow-up jobs of a written batch: ONE audit job carrying every scan's entry and ONE notification
 * job carrying the owner notifications (audit entries in their compact form, `ScanAuditItem`), whatever number
 * of persist jobs the batch served. Their ids come from the persist jobs (`jobIds`, in batch order), so a retried
 * batch of the same jobs adds no second copy; a retried job that lands in a differently composed batch may add
 * an overlapping follow-up, and each entry's and notification's own idempotency key keeps it from taking effect
 * twice.
 */
export const followUpJobs = (
  jobIds: ReadonlyArray<string>,
  entries: ReadonlyArray<ScanAuditItem>,
  notes: ReadonlyArray<SendNotification>
) => {
  const [first] = jobIds
  if (first === undefined) return { audit: [], notify: [] }
  const key = jobIds.length === 1 ? [first] : [first, `${jobIds.length}jobs`]
  return {
    audit:
      entries.length === 0
        ? []
        : chunks(entries).map((part, i) => ({
            name: TaskNames.appendScanAuditEntries,
            data: { scans: part },
            opts: jobOptionsFor(TaskNames.appendScanAuditEntries, {
              jobId: safeJobId("audit", ...key, ...(i > 0 ? [`${i}`] : []))
            })
          })),
    notify:
      notes.length === 0
        ? []
        : chunks(notes).map((part, i) => ({
            name: TaskNames.sendNotification,
            data: { notifications: part },
            opts: jobOptionsFor(TaskNames.sendNotification, {
              jobId: safeJobId("notify", ...key, ...(i > 0 ? [`${i}`] : []))
            })
          }))
  }
}
