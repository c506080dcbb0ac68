import type { BackoffStrategy, JobsOptions } from "bullmq"
import { MaxScansPerJob, type ScanBatchEncoded, type ScanEventEncoded, Tasks } from "../../shared/domain/Scan.js"
import type { QueueName } from "../../shared/layers/Queues.js"
import type { AppendAuditEntry } from "./Payloads.js"

/**
 * The routing table: every task name → its queue, priority and retry policy. The one place that
 * says where a task runs; producers (gateway, beat, tasks) take their job options from here.
 */
export const TaskNames = {
  ...Tasks,
  deliverWebhook: "deliver_webhook",
  cleanup: "cleanup",
  verifyAuditIntegrity: "verify_audit_integrity",
  syncChainConfirmations: "sync_chain_confirmations",
  checkpointAndAnchor: "checkpoint_and_anchor"
} as const
export type TaskName = (typeof TaskNames)[keyof typeof TaskNames]

export interface Route {
  readonly queue: QueueName
  /** BullMQ priority: 1 is the highest; undefined means plain FIFO (served before prioritised jobs) */
  readonly priority?: number
  readonly attempts: number
  /** base delay of the jittered exponential backoff */
  readonly backoffMs: number
}

export const Routes: Readonly<Record<TaskName, Route>> = {
  persist_scan_event: { queue: "scans", attempts: 5, backoffMs: 1_000 },
  append_audit_entry: { queue: "audit", attempts: 8, backoffMs: 1_000 },
  submit_chain_anchor: { queue: "blockchain", attempts: 6, backoffMs: 5_000 },
  send_notification: { queue: "notifications", attempts: 5, backoffMs: 2_000 },
  deliver_webhook: { queue: "notifications", attempts: 6, backoffMs: 2_000 },
  cleanup: { queue: "default", priority: 10, attempts: 2, backoffMs: 10_000 },
  verify_audit_integrity: { queue: "audit", priority: 10, attempts: 2, backoffMs: 10_000 },
  sync_chain_confirmations: { queue: "blockchain", attempts: 2, backoffMs: 5_000 },
  checkpoint_and_anchor: { queue: "blockchain", priority: 1, attempts: 4, backoffMs: 5_000 }
}

export const isTaskName = (name: string): name is TaskName => Object.hasOwn(Routes, name)

export const queueFor = (task: TaskName): QueueName => Routes[task].queue

/** The custom backoff type every route uses; workers register `backoffStrategy` for it. */
export const JITTERED_EXPONENTIAL = "jittered-exponential"
export const MAX_BACKOFF_MS = 10 * 60_000

/**
 * "Full jitter" over an exponential ceiling: delay ∈ [ceiling/2, ceiling] with ceiling = base·2^(n-1),
 * capped, so retries of many jobs failing together spread out instead of hitting the dependency at once.
 */
export const jitteredDelay = (attemptsMade: number, baseMs: number, random: () => number = Math.random): number => {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attemptsMade - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

export const backoffStrategy: BackoffStrategy = (attemptsMade, type, _err, job) => {
  const base = job?.opts.backoff !== undefined && typeof job.opts.backoff === "object" ? job.opts.backoff.delay : 1_000
  if (type === JITTERED_EXPONENTIAL) return jitteredDelay(attemptsMade, base ?? 1_000)
  // unknown types: retry with the same policy rather than failing the job for a typo
  return jitteredDelay(attemptsMade, base ?? 1_000)
}

/** The job options of a task: attempts, jittered backoff, priority, retention. */
export const jobOptionsFor = (task: TaskName, extra: JobsOptions = {}): JobsOptions => {
  const r = Routes[task]
  return {
    attempts: r.attempts,
    backoff: { type: JITTERED_EXPONENTIAL, delay: r.backoffMs },
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    // completed jobs are kept briefly so a duplicate enqueue with the same jobId is still recognised
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
    ...extra
  }
}

/** Ids BullMQ accepts: no ':' and not a plain integer. */
export const safeJobId = (...parts: ReadonlyArray<string>) => parts.join("-").replace(/:/g, "_")

/**
 * The persist_scan_event jobs for scans accepted together (the gateway's one event-loop turn): one job
 * per MaxScansPerJob scans, its id taken from its first scan, with the route's attempts and jittered
 * backoff. Every producer of scan jobs builds them here.
 */
export const persistScanJobs = (scans: ReadonlyArray<ScanEventEncoded>) => {
  const jobs: Array<{ readonly name: TaskName; readonly data: ScanBatchEncoded; readonly opts: JobsOptions }> = []
  for (let i = 0; i < scans.length; i += MaxScansPerJob) {
    const chunk = scans.slice(i, i + MaxScansPerJob)
    const first = chunk[0]
    if (first === undefined) break
    jobs.push({
      name: TaskNames.persistScanEvent,
      data: { scans: chunk },
      opts: jobOptionsFor(TaskNames.persistScanEvent, { jobId: safeJobId("scans", first.scanId) })
    })
  }
  return jobs
}

/**
 * The append_audit_entry job for one entry (policy versions, jurisdiction changes, …): its queue, its
 * route's retry policy and a job id from the entry's idempotency key, so a producer enqueueing the
 * same entry twice makes one job (and the audit task appends it once by the key).
 */
export const auditEntryJob = (entry: AppendAuditEntry) => ({
  queue: queueFor(TaskNames.appendAuditEntry),
  name: TaskNames.appendAuditEntry,
  data: entry,
  opts: jobOptionsFor(TaskNames.appendAuditEntry, { jobId: safeJobId("audit", entry.idempotencyKey) })
})
