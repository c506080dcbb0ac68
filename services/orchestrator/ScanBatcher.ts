import { parseTraceparent } from "../../shared/telemetry/TraceContext.js"
import { Cause, DateTime, Effect, Either, Exit, Option, Runtime, Tracer } from "effect"
import type { ScanEvent } from "../../shared/domain/Scan.js"
import { Nats, natsPayload } from "../../shared/layers/Nats.js"
import { Queues } from "../../shared/layers/Queues.js"
import { EventSubjects } from "./Events.js"
import { dependencyFailed, InvalidPayload, type TaskDependencyFailed } from "./Errors.js"
import { outcomeOf, type PersistedScan, persistScans, type ScanRecorded } from "./ScanStore.js"
import { auditEntryForScan, notifiedIntents, safeJobId, scanNotification, type TaskEnv } from "./Tasks.js"
import { jobOptionsFor, queueFor, TaskNames } from "./Routing.js"

/**
 * The scans worker's batch collector. Each persist_scan_event job hands its decoded event here and
 * waits; the first event starts a batch, events arriving within `lingerMs` join it (up to `maxBatch`),
 * and the batch is written with ONE multi-row INSERT. Then every scan is published on NATS
 * (`Nats-Msg-Id` = scan id, so JetStream drops a redelivered duplicate) and its follow-up jobs
 * (audit entry, owner notification) are added in one addBulk. Only then do the jobs complete, so a
 * crash at any point leaves the jobs active → stalled → retried, and the INSERT's ON CONFLICT keeps
 * exactly one row per scan.
 */
export interface BatchItem {
  readonly event: ScanEvent
  /** flow children skip follow-ups: the flow carries its own audit child and notify parent */
  readonly isFlowChild: boolean
}

export type BatchError = InvalidPayload | TaskDependencyFailed

interface Pending {
  readonly item: BatchItem
  readonly resolve: (r: PersistedScan) => void
  readonly reject: (e: BatchError) => void
}

const dep = dependencyFailed

export const recordedMessage = (e: ScanEvent, p: PersistedScan): ScanRecorded => ({
  scanId: e.scanId,
  garmentId: e.garmentId,
  gtin: p.gtin,
  regionCode: e.regionCode,
  intent: e.intent,
  role: e.role,
  outcome: outcomeOf(e.decision),
  scannedAt: DateTime.formatIso(e.scannedAt)
})

/** Persist a batch and run its follow-ups; per item: the persisted row or why that item failed. */
export const persistBatch = (items: ReadonlyArray<BatchItem>) =>
  Effect.gen(function* () {
    const nats = yield* Nats
    const queues = yield* Queues
    const subjects = yield* EventSubjects
    const persisted = yield* persistScans(items.map((i) => i.event))
    const found = items.flatMap((i) => {
      const p = persisted.get(i.event.scanId.toLowerCase())
      return p === undefined ? [] : [{ ...i, persisted: p }]
    })
    const publishAll = Effect.forEach(
      found,
      ({ event, persisted: p }) => {
        const headers: Record<string, string> = { "Nats-Msg-Id": event.scanId }
        if (event.traceparent !== undefined) headers.traceparent = event.traceparent
        return nats.publish(subjects.scanRecorded, natsPayload(recordedMessage(event, p)), headers)
      },
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.mapError(dep("publish scan.recorded")))
    const standalone = found.filter((f) => !f.isFlowChild)
    const audit = standalone.map((f) => ({
      name: TaskNames.appendAuditEntry,
      data: auditEntryForScan(f.event, outcomeOf(f.event.decision)),
      opts: jobOptionsFor(TaskNames.appendAuditEntry, { jobId: safeJobId("audit", f.event.scanId) })
    }))
    const notes = standalone
      .filter((f) => notifiedIntents.has(f.event.intent) && f.persisted.ownerUserId !== null)
      .map((f) => ({
        name: TaskNames.sendNotification,
        data: scanNotification(f.event, f.persisted.ownerUserId, f.persisted.brandId),
        opts: jobOptionsFor(TaskNames.sendNotification, { jobId: safeJobId("notify", f.event.scanId) })
      }))
    const auditQueue = yield* queues.queue(queueFor(TaskNames.appendAuditEntry)).pipe(Effect.orDie)
    const noteQueue = yield* queues.queue(queueFor(TaskNames.sendNotification)).pipe(Effect.orDie)
    const enqueueAll = Effect.tryPromise({
      try: () =>
        Promise.all([
          audit.length > 0 ? auditQueue.addBulk(audit) : Promise.resolve([]),
          notes.length > 0 ? noteQueue.addBulk(notes) : Promise.resolve([])
        ]),
      catch: dep("enqueue follow-ups")
    })
    // both depend only on the INSERT having committed, not on each other
    yield* Effect.all([publishAll, enqueueAll], { concurrency: 2, discard: true })
    return items.map((i): Either.Either<PersistedScan, BatchError> => {
      const p = persisted.get(i.event.scanId.toLowerCase())
      return p === undefined
        ? Either.left(
            new InvalidPayload({
              task: TaskNames.persistScanEvent,
              message: `garment ${i.event.garmentId} does not exist`
            })
          )
        : Either.right(p)
    })
  }).pipe((persist) => {
    // one INSERT serves many scans: the batch span continues the first scan's trace and links the others
    const parents = items.flatMap((i) => Option.toArray(parseTraceparent(i.event.traceparent)))
    const [first, ...rest] = parents
    return Effect.withSpan(persist, "ScanBatcher.persistBatch", {
      kind: "consumer",
      attributes: { batch: items.length },
      ...(first !== undefined ? { parent: Tracer.externalSpan(first) } : {}),
      links: rest.map((p) => ({ _tag: "SpanLink" as const, span: Tracer.externalSpan(p), attributes: {} }))
    })
  })

/** The collector; `submit` resolves when the item's batch is written (or rejects with its error). */
export type PersistBatch = (
  items: ReadonlyArray<BatchItem>
) => Effect.Effect<ReadonlyArray<Either.Either<PersistedScan, BatchError>>, BatchError, TaskEnv>

export const makeScanBatcher = (o: {
  readonly runtime: Runtime.Runtime<TaskEnv>
  readonly persist: PersistBatch
  readonly maxBatch: number
  readonly lingerMs: number
}) => {
  let pending: Array<Pending> = []
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    const batch = pending.slice(0, o.maxBatch)
    pending = pending.slice(batch.length)
    if (pending.length > 0) schedule()
    if (batch.length === 0) return
    void Runtime.runPromiseExit(o.runtime)(o.persist(batch.map((p) => p.item))).then((exit) => {
      if (Exit.isSuccess(exit)) {
        exit.value.forEach((r, i) => {
          const p = batch[i]
          if (p === undefined) return
          Either.isRight(r) ? p.resolve(r.right) : p.reject(r.left)
        })
        return
      }
      const failure = Option.getOrElse(Cause.failureOption(exit.cause), () =>
        dep("persist batch")({ message: Cause.pretty(exit.cause) })
      )
      for (const p of batch) p.reject(failure)
    })
  }
  const schedule = () => {
    if (pending.length >= o.maxBatch) flush()
    else if (timer === undefined) timer = setTimeout(flush, o.lingerMs)
  }
  return {
    submit: (item: BatchItem) =>
      new Promise<PersistedScan>((resolve, reject) => {
        pending.push({ item, resolve, reject })
        schedule()
      }),
    get pending() {
      return pending.length
    }
  }
}
