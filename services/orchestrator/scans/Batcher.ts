import { Cause, Context, Effect, Exit, Option, Runtime, Tracer } from "effect"
import type { ScanEvent } from "../../../shared/domain/Scan.js"
import { EventSubjects } from "../../../shared/events/ScanEventSubjects.js"
import { Nats, natsPayload, type OutgoingMessage } from "../../../shared/layers/Nats.js"
import { Queues } from "../../../shared/layers/Queues.js"
import { parseTraceparent } from "../../../shared/telemetry/TraceContext.js"
import { dependencyFailed, InvalidPayload, JobHandedBack, TaskDependencyFailed } from "../Errors.js"
import { appendAuditEntries } from "../AuditAppend.js"
import type { AppendAuditEntry, SendNotification } from "../Payloads.js"
import { queueFor, TaskNames } from "../Routing.js"
import type { TaskEnv } from "../TaskContext.js"
import { notificationJobs, notifiedIntents, scanAuditEntry, scanNotification } from "./FollowUps.js"
import { outcomeOf, persistScans, type ScanGarment, type ScanRecorded, type ScanRow, scanRow } from "./Store.js"

/**
 * The scans worker's batch collector. Each persist_scan_event job (the scans the gateway collected in
 * one turn) hands its decoded scans here as one group and waits; the first group starts a batch,
 * groups arriving within `lingerMs` join it (up to `maxBatch` scans), and the batch is written with
 * ONE multi-row INSERT. Then, at once: every scan is published on NATS (`Nats-Msg-Id` = scan id, so JetStream
 * drops a redelivered duplicate; all publishes of the batch are in flight together), every scan's audit entry is
 * appended to the audit log (one group commit, each entry once by its key `scan-<id>`, checked by the sequencer
 * in the append transaction), and the owner notifications are added as one follow-up job. Only then do the jobs
 * complete, so a crash at any point leaves the jobs active → stalled → retried: the INSERT's ON CONFLICT keeps
 * one row per scan, the entry's key one leaf, the message id one message. A scan's leaf is in the log when its
 * job completes (no second queue between the scan and its leaf).
 */
export interface BatchGroup {
  /** the persist job's id: names its notification job, so a retried job adds the same one */
  readonly jobId: string
  readonly events: ReadonlyArray<ScanEvent>
}

export type BatchError = InvalidPayload | TaskDependencyFailed | JobHandedBack

/** Per scan of a group, in order: its garment when the scan is persisted, undefined when that garment does not exist. */
export type GroupResult = ReadonlyArray<ScanGarment | undefined>

interface Pending {
  readonly group: BatchGroup
  readonly resolve: (r: GroupResult) => void
  readonly reject: (e: BatchError) => void
}

const dep = dependencyFailed
const MAX_LINKS = 128

const isBatchError = (e: unknown): e is BatchError =>
  e instanceof InvalidPayload || e instanceof TaskDependencyFailed || e instanceof JobHandedBack

export const recordedMessage = (e: ScanEvent, g: ScanGarment, scannedAtIso: string): ScanRecorded => ({
  scanId: e.scanId,
  garmentId: e.garmentId,
  gtin: g.gtin,
  regionCode: e.regionCode,
  intent: e.intent,
  role: e.role,
  outcome: outcomeOf(e.decision),
  scannedAt: scannedAtIso
})

/**
 * Persist a batch of groups and run their follow-ups; per group, per scan: its garment, or undefined
 * when it names no garment. Everything a scan needs (INSERT row, scan.recorded, audit entry,
 * notification) is built straight from the decoded event, its timestamp formatted once.
 */
export const persistBatch = (groups: ReadonlyArray<BatchGroup>) =>
  Effect.gen(function* () {
    const nats = yield* Nats
    const queues = yield* Queues
    const subjects = yield* EventSubjects
    const rows: Array<ScanRow> = []
    const isos: Array<Array<string>> = []
    for (const g of groups) {
      const own: Array<string> = []
      for (const e of g.events) {
        const iso = new Date(e.scannedAt.epochMillis).toISOString()
        own.push(iso)
        rows.push(scanRow(e, iso))
      }
      isos.push(own)
    }
    const garments = yield* persistScans(rows)
    // one scan.recorded per scan id, however many jobs of the batch carried it
    const messages: Array<OutgoingMessage> = []
    const seen = new Set<string>()
    const entries: Array<AppendAuditEntry> = []
    const notes: Array<SendNotification> = []
    const results: Array<GroupResult> = []
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi] as BatchGroup
      const own = isos[gi] as Array<string>
      const result: Array<ScanGarment | undefined> = []
      for (let i = 0; i < g.events.length; i++) {
        const event = g.events[i] as ScanEvent
        const garment = garments.get(event.garmentId.toLowerCase())
        result.push(garment)
        if (garment === undefined) continue
        const iso = own[i] as string
        const id = event.scanId.toLowerCase()
        if (!seen.has(id)) {
          seen.add(id)
          messages.push({
            subject: subjects.scanRecorded,
            data: natsPayload(recordedMessage(event, garment, iso)),
            headers:
              event.traceparent !== undefined
                ? { "Nats-Msg-Id": event.scanId, traceparent: event.traceparent }
                : { "Nats-Msg-Id": event.scanId }
          })
        }
        entries.push(scanAuditEntry(event, outcomeOf(event.decision)))
        if (notifiedIntents.has(event.intent) && garment.ownerUserId !== null)
          notes.push(scanNotification(event, garment.ownerUserId, garment.brandId))
      }
      results.push(result)
    }
    const publishAll = nats.publishBatch(messages).pipe(Effect.mapError(dep("publish scan.recorded")))
    const appendAll = appendAuditEntries(entries).pipe(
      Effect.mapError((e) => new TaskDependencyFailed({ operation: "append scan audit entries", message: e.message }))
    )
    const notify = notificationJobs(
      groups.map((g) => g.jobId),
      notes
    )
    const noteQueue = yield* queues.queue(queueFor(TaskNames.sendNotification)).pipe(Effect.orDie)
    const enqueueNotes = Effect.tryPromise({
      try: () => (notify.length > 0 ? noteQueue.addBulk(notify) : Promise.resolve([])),
      catch: dep("enqueue notifications")
    })
    // all three depend only on the INSERT having committed, not on each other
    yield* Effect.all([publishAll, appendAll, enqueueNotes], { concurrency: 3, discard: true })
    return results
  }).pipe((persist) => {
    // one INSERT serves many scans: the batch span continues the first scan's trace and links the next
    // MAX_LINKS (parsing every scan's traceparent of a 1000-scan batch would cost more than it tells)
    const parents: Array<Tracer.ExternalSpan> = []
    let scans = 0
    for (const g of groups) {
      scans += g.events.length
      for (const e of g.events) {
        if (parents.length > MAX_LINKS) break
        const p = parseTraceparent(e.traceparent)
        if (Option.isSome(p)) parents.push(Tracer.externalSpan(p.value))
      }
    }
    const [first, ...rest] = parents
    return Effect.withSpan(persist, "ScanBatcher.persistBatch", {
      kind: "consumer",
      captureStackTrace: false,
      attributes: { batch: scans, jobs: groups.length },
      ...(first !== undefined ? { parent: first } : {}),
      links: rest.map((span) => ({ _tag: "SpanLink" as const, span, attributes: {} }))
    })
  })

/**
 * The scans worker's batcher as the persist task sees it: `submit` hands over one job's scans and succeeds, once
 * their batch is written, with each scan's garment (undefined: no such garment). The worker makes one per
 * process (`makeScanBatcher`) and provides it to its jobs; it hands back what it holds on SIGTERM.
 */
export class ScanBatcher extends Context.Tag("brandme/orchestrator/ScanBatcher")<
  ScanBatcher,
  { readonly submit: (group: BatchGroup) => Effect.Effect<GroupResult, BatchError> }
>() {}

/** The batch writer; `submit` resolves when the group's batch is written (or rejects with its error). */
export type PersistBatch = (
  groups: ReadonlyArray<BatchGroup>
) => Effect.Effect<ReadonlyArray<GroupResult>, BatchError, TaskEnv>

export const makeScanBatcher = (o: {
  readonly runtime: Runtime.Runtime<TaskEnv>
  readonly persist: PersistBatch
  /** scans per INSERT (a group bigger than this is written alone) */
  readonly maxBatch: number
  readonly lingerMs: number
  /** batches written at once; groups arriving meanwhile wait and form the next batches */
  readonly maxInFlight: number
}) => {
  let pending: Array<Pending> = []
  let pendingScans = 0
  let inFlight = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const take = (): Array<Pending> => {
    let n = 0
    let k = 0
    while (k < pending.length && (k === 0 || n + (pending[k]?.group.events.length ?? 0) <= o.maxBatch)) {
      n += pending[k]?.group.events.length ?? 0
      k++
    }
    const batch = pending.slice(0, k)
    pending = pending.slice(k)
    pendingScans -= n
    return batch
  }
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    while (pending.length > 0 && inFlight < o.maxInFlight) {
      // past the linger: write what is there; below it, wait until a full batch has gathered
      const batch = take()
      inFlight++
      void Runtime.runPromiseExit(o.runtime)(o.persist(batch.map((p) => p.group))).then((exit) => {
        inFlight--
        if (Exit.isSuccess(exit)) {
          exit.value.forEach((r, i) => {
            batch[i]?.resolve(r)
          })
        } else {
          const failure = Option.getOrElse(Cause.failureOption(exit.cause), () =>
            dep("persist batch")({ message: Cause.pretty(exit.cause) })
          )
          for (const p of batch) p.reject(failure)
        }
        schedule()
      })
      if (pendingScans < o.maxBatch) break
    }
    if (pending.length > 0) schedule()
  }
  const schedule = () => {
    if (pending.length === 0 || inFlight >= o.maxInFlight) return
    if (pendingScans >= o.maxBatch) flush()
    else if (timer === undefined) timer = setTimeout(flush, o.lingerMs)
  }
  const handedBack = () => new JobHandedBack({ message: "the worker is shutting down: job given back unstarted" })
  const submit = (group: BatchGroup) =>
    new Promise<GroupResult>((resolve, reject) => {
      if (closed) return reject(handedBack())
      if (group.events.length === 0) return resolve([])
      pending.push({ group, resolve, reject })
      pendingScans += group.events.length
      schedule()
    })
  return {
    submit: (group: BatchGroup): Effect.Effect<GroupResult, BatchError> =>
      Effect.tryPromise({
        try: () => submit(group),
        catch: (e) => (isBatchError(e) ? e : dep("persist")(e))
      }),
    /**
     * SIGTERM: every group not yet in a batch being written is rejected with JobHandedBack (its job goes back
     * to wait for another worker at once) and so is every later one; batches being written finish.
     */
    handBack: () => {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      const waiting = pending
      pending = []
      pendingScans = 0
      for (const p of waiting) p.reject(handedBack())
    },
    get pending() {
      return pendingScans
    }
  }
}
