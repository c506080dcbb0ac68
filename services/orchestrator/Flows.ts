import { FlowProducer, type FlowJob } from "bullmq"
import { Context, Effect, Layer, Schema } from "effect"
import { type ScanEvent, ScanEvent as ScanEventSchema } from "../../shared/domain/Scan.js"
import { Queues } from "../../shared/layers/Queues.js"
import { dependencyFailed } from "./Errors.js"
import type { Principal } from "../../shared/auth/Tokens.js"
import { jobOptionsFor, queueFor, TaskNames } from "./Routing.js"
import { outcomeOf } from "./ScanStore.js"
import { auditEntryForScan, safeJobId } from "./Tasks.js"

/**
 * Flows (BullMQ FlowProducer): a parent job runs only after all its children completed.
 * - the scan pipeline: persist_scan_event and append_audit_entry in parallel, then notify_scan;
 * - a group: bulk garment import, one import_garment child per garment, import_garments sums up.
 */
export class Flows extends Context.Tag("brandme/orchestrator/Flows")<
  Flows,
  {
    readonly scanPipeline: (
      event: ScanEvent
    ) => Effect.Effect<{ readonly parentId: string }, ReturnType<ReturnType<typeof dependencyFailed>>>
    readonly importGarments: (
      batchId: string,
      principal: Principal,
      items: ReadonlyArray<unknown>
    ) => Effect.Effect<
      { readonly parentId: string; readonly children: number },
      ReturnType<ReturnType<typeof dependencyFailed>>
    >
  }
>() {}

const child = (name: (typeof TaskNames)[keyof typeof TaskNames], data: unknown, jobId: string): FlowJob => ({
  name,
  queueName: queueFor(name),
  data,
  opts: jobOptionsFor(name, { jobId })
})

export const scanFlow = (event: ScanEvent): FlowJob => ({
  name: TaskNames.notifyScan,
  queueName: queueFor(TaskNames.notifyScan),
  data: { scanId: event.scanId, garmentId: event.garmentId, intent: event.intent },
  opts: jobOptionsFor(TaskNames.notifyScan, { jobId: safeJobId("flow", event.scanId) }),
  children: [
    child(TaskNames.persistScanEvent, Schema.encodeSync(ScanEventSchema)(event), event.scanId),
    child(
      TaskNames.appendAuditEntry,
      auditEntryForScan(event, outcomeOf(event.decision)),
      safeJobId("audit", event.scanId)
    )
  ]
})

export const garmentImportFlow = (batchId: string, principal: Principal, items: ReadonlyArray<unknown>): FlowJob => ({
  name: TaskNames.importGarments,
  queueName: queueFor(TaskNames.importGarments),
  data: { batchId },
  opts: jobOptionsFor(TaskNames.importGarments, { jobId: safeJobId("import", batchId) }),
  children: items.map((item, i) =>
    child(TaskNames.importGarment, { principal, item }, safeJobId("import", batchId, String(i)))
  )
})

export const FlowsLive = Layer.scoped(
  Flows,
  Effect.gen(function* () {
    const queues = yield* Queues
    const connection = yield* queues.connection.pipe(Effect.orDie)
    const producer = yield* Effect.acquireRelease(
      Effect.sync(() => new FlowProducer({ connection, prefix: queues.prefix })),
      (p) => Effect.promise(() => p.close().catch(() => undefined))
    )
    return {
      scanPipeline: (event) =>
        Effect.tryPromise({ try: () => producer.add(scanFlow(event)), catch: dependencyFailed("flow scan") }).pipe(
          Effect.map((n) => ({ parentId: n.job.id ?? "" }))
        ),
      importGarments: (batchId, principal, items) =>
        Effect.tryPromise({
          try: () => producer.add(garmentImportFlow(batchId, principal, items)),
          catch: dependencyFailed("flow import")
        }).pipe(Effect.map((n) => ({ parentId: n.job.id ?? "", children: n.children?.length ?? 0 })))
    }
  })
)
