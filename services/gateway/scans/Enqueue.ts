import { Effect, Either } from "effect"
import type { ScanEventEncoded } from "../../../shared/domain/Scan.js"
import { Queues } from "../../../shared/layers/Queues.js"
import { makeTurnBatcher } from "../../../shared/TurnBatcher.js"
import {
  type LoggedScan,
  persistScanJobs,
  queueFor,
  scanLogEntries,
  scanLogKey,
  TaskNames
} from "../../orchestrator/Api.js"
import { QueueUnavailable } from "./Api.js"

interface Pending extends LoggedScan {
  readonly done: (error: string | undefined) => void
}

/** the fields only one scan has: its event is the cached rest with these spliced in front (`eventHead`) */
type PerScanField = "scanId" | "scannerUserId" | "scannedAt" | "traceparent"

/**
 * An encoded scan event's JSON without its per-scan fields, after the opening brace: what a cached answer keeps, so a
 * scan's event is spliced, not serialised (`eventHead`). Per-scan fields given are left out.
 */
export const eventTailOf = (
  event: Omit<ScanEventEncoded, PerScanField> & Partial<Pick<ScanEventEncoded, PerScanField>>
): string => {
  const { scanId: _id, scannerUserId: _scanner, scannedAt: _at, traceparent: _tp, ...rest } = event
  return JSON.stringify(rest).slice(1)
}

/**
 * A scan's own event fields as an open JSON object with a trailing comma, to be closed by the cached rest
 * (`eventTailOf`): `eventHead(…) + tail` is the same value as `JSON.stringify` of the encoded event. scanId and
 * scannedAt are a UUID and an ISO time; scanner and traceparent are quoted by JSON.stringify, whatever they hold.
 */
export const eventHead = (scanId: string, scanner: string | null, scannedAtIso: string, traceparent?: string): string =>
  `{"scanId":"${scanId}","scannerUserId":${scanner === null ? "null" : JSON.stringify(scanner)},"scannedAt":"${scannedAtIso}",${
    traceparent === undefined ? "" : `"traceparent":${JSON.stringify(traceparent)},`
  }`

const scansQueue = queueFor(TaskNames.persistScanEvent)

/**
 * Records scan events in the scan log (the orchestrator's `scanLogKey`, a Redis stream on the queue Redis): scans
 * arriving in the same event-loop turn go to Redis as ONE `XADD` of one entry carrying all of them (split only past
 * MaxScansPerJob), the part several of them share written once (`scanLogEntries`). The HTTP answer waits for Redis
 * to confirm the entry, so a scan the API accepted is never lost, and the batching costs no timer delay (the flush
 * runs on the next `setImmediate`). The gateway pays no BullMQ work per turn (its job objects, scripts and events
 * cost a warm scan more than its admission did): the orchestrator's relay moves the log, many turns at a time, into
 * persist_scan_event jobs, and each scan is persisted exactly once by its scan id. Without a Redis connection (the
 * unit tests' queue layer) the same scans go through `add` as jobs.
 */
export class ScanEnqueuer extends Effect.Service<ScanEnqueuer>()("brandme/gateway/ScanEnqueuer", {
  scoped: Effect.gen(function* () {
    const queues = yield* Queues
    const connection = yield* Effect.either(queues.connection)
    const logKey = scanLogKey(queues.prefix)
    const batcher = makeTurnBatcher<Pending>((batch) => {
      const settle = (error: string | undefined) => {
        for (const p of batch) p.done(error)
      }
      if (Either.isLeft(connection)) {
        const jobs = persistScanJobs(batch.map((p) => JSON.parse(p.head + p.tail) as ScanEventEncoded))
        Effect.runPromise(
          Effect.either(Effect.forEach(jobs, (j) => queues.add(scansQueue, j.name, j.data, j.opts), { discard: true }))
        ).then((r) => settle(Either.isLeft(r) ? r.left.message : undefined))
        return
      }
      const redis = connection.right
      Promise.all(scanLogEntries(batch).map((fields) => redis.xadd(logKey, "*", ...fields))).then(
        () => settle(undefined),
        (e: unknown) => settle(e instanceof Error ? e.message : String(e))
      )
    })
    yield* Effect.addFinalizer(() => Effect.sync(batcher.flushNow))
    /**
     * records one scan's event, given as its own fields (`eventHead`) and the cached rest (`eventTailOf`): undefined
     * once Redis confirmed it, else the failure
     */
    const enqueuePromise = (head: string, tail: string) =>
      new Promise<string | undefined>((resolve) => batcher.push({ head, tail, done: resolve }))
    const queueUnavailable = (error: string) =>
      new QueueUnavailable({ message: `the scan could not be queued, retry: ${error}` })
    return { enqueuePromise, queueUnavailable }
  })
}) {}
