import { MaxScansPerJob } from "../../shared/domain/Scan.js"
import { isRecord } from "../../shared/Guards.js"

/**
 * The scan log: a Redis stream on the queue Redis (noeviction) where the gateway records the scans it accepts, one
 * entry per event-loop turn (a JSON array of at most MaxScansPerJob encoded scan events in the field `scans`), with
 * ONE `XADD`. The gateway answers a scan once Redis has confirmed its entry, so an accepted scan is never lost, and
 * it pays no per-job BullMQ work: the orchestrator's relay (`Relay.ts`) moves the entries, many turns at a time, into
 * persist_scan_event jobs on the `scans` queue, where they are persisted, retried and dead-lettered as every other
 * task's jobs are.
 */
export const scanLogKey = (queuePrefix: string) => `${queuePrefix}:scan-log`

/** the relay's lease: the one relay that may move entries now (value: its owner id) */
export const scanLogLeaseKey = (queuePrefix: string) => `${queuePrefix}:scan-log:relay`

export const ScanLogField = "scans"

/**
 * The log entries (JSON arrays) for scans accepted together, from each scan's encoded event as JSON text (the
 * gateway splices those from its cached answers): one entry per MaxScansPerJob scans.
 */
export const scanLogEntries = (eventsJson: ReadonlyArray<string>): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < eventsJson.length; i += MaxScansPerJob)
    out.push(`[${eventsJson.slice(i, i + MaxScansPerJob).join(",")}]`)
  return out
}

/**
 * An entry's scans, or why it cannot be relayed. Only the envelope is checked here (a JSON array of 1 to
 * MaxScansPerJob objects); each scan is decoded by the persist task, which dead-letters a bad one on its own.
 */
export const readScanLogEntry = (
  fields: ReadonlyArray<string>
): { readonly scans: ReadonlyArray<unknown> } | { readonly error: string; readonly raw: unknown } => {
  let raw: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === ScanLogField) raw = fields[i + 1]
  if (raw === undefined)
    return { error: `scans: is missing (fields ${fields.filter((_, i) => i % 2 === 0).join(", ")})`, raw: fields }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (e) {
    return { error: `scans: is not JSON (${e instanceof Error ? e.message : String(e)})`, raw }
  }
  if (!Array.isArray(parsed)) return { error: "scans: is not an array", raw }
  if (parsed.length === 0) return { error: "scans: is empty", raw }
  if (parsed.length > MaxScansPerJob)
    return { error: `scans: has ${parsed.length} items, at most ${MaxScansPerJob}`, raw }
  const notObject = parsed.findIndex((s) => !isRecord(s))
  if (notObject >= 0) return { error: `scans[${notObject}]: is not an object`, raw }
  return { scans: parsed }
}
