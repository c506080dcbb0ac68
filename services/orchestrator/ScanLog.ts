import { MaxScansPerJob } from "../../shared/domain/Scan.js"
import { isRecord } from "../../shared/Guards.js"

/**
 * The scan log: a Redis stream on the queue Redis (noeviction) where the gateway records the scans it accepts, one
 * entry per event-loop turn (a JSON array of at most MaxScansPerJob encoded scan events in the field `scans`, and in
 * `tails` the part of the events that several of them share, written once: `scanLogEntries`), with ONE `XADD`. The
 * gateway answers a scan once Redis has confirmed its entry, so an accepted scan is never lost, and it pays no
 * per-job BullMQ work: the orchestrator's relay (`Relay.ts`) moves the entries, many turns at a time, into
 * persist_scan_event jobs on the `scans` queue, where they are persisted, retried and dead-lettered as every other
 * task's jobs are.
 */
export const scanLogKey = (queuePrefix: string) => `${queuePrefix}:scan-log`

/** the relay's lease: the one relay that may move entries now (value: its owner id) */
export const scanLogLeaseKey = (queuePrefix: string) => `${queuePrefix}:scan-log:relay`

export const ScanLogField = "scans"
/** an entry's optional second field: the event parts its scans share (`scanLogEntries`) */
export const ScanLogTailsField = "tails"

/**
 * One accepted scan as the gateway splices it: `head`, its own fields as an open JSON object with a trailing comma
 * (`{"scanId":…,"scannedAt":…,`), and `tail`, the rest of its event after the opening brace (`"garmentId":…}`), the
 * same text for every scan of one cached answer. `head + tail` is the event's JSON.
 */
export interface LoggedScan {
  readonly head: string
  readonly tail: string
}

/**
 * The log entries for scans accepted together, one per MaxScansPerJob scans, each as XADD's field-value list. A tail
 * that two or more scans of an entry share is written once, in the entry's `tails` (a JSON array of objects), and
 * those scans carry its index (`"tail":<i>`) in its place; a scan whose tail no other scan of the entry has is written
 * whole. A turn's scans of one popular garment so cost the queue Redis one copy of their decision and garment fields,
 * not one each (a scan event is ~950 bytes, its own fields ~150).
 */
export const scanLogEntries = (scans: ReadonlyArray<LoggedScan>): ReadonlyArray<ReadonlyArray<string>> => {
  const out: Array<ReadonlyArray<string>> = []
  for (let i = 0; i < scans.length; i += MaxScansPerJob) {
    const part = scans.slice(i, i + MaxScansPerJob)
    // how many scans of this entry share each tail (the same string: V8 compares and hashes it once)
    const seen = new Map<string, number>()
    for (const s of part) seen.set(s.tail, (seen.get(s.tail) ?? 0) + 1)
    const tails: Array<string> = []
    const index = new Map<string, string>()
    const items = part.map((s) => {
      if (seen.get(s.tail) === 1) return s.head + s.tail
      let at = index.get(s.tail)
      if (at === undefined) {
        at = `"tail":${tails.push(`{${s.tail}`) - 1}}`
        index.set(s.tail, at)
      }
      return s.head + at
    })
    const fields = [ScanLogField, `[${items.join(",")}]`]
    if (tails.length > 0) fields.push(ScanLogTailsField, `[${tails.join(",")}]`)
    out.push(fields)
  }
  return out
}

type EntryRead = { readonly scans: ReadonlyArray<unknown> } | { readonly error: string; readonly raw: unknown }

/** a field's JSON array, or why it is not one */
const jsonArrayOf = (
  name: string,
  raw: string
): { readonly items: ReadonlyArray<Record<string, unknown>> } | { readonly error: string } => {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (e) {
    return { error: `${name}: is not JSON (${e instanceof Error ? e.message : String(e)})` }
  }
  if (!Array.isArray(parsed)) return { error: `${name}: is not an array` }
  const items: Array<Record<string, unknown>> = []
  for (const [i, s] of parsed.entries()) {
    if (!isRecord(s)) return { error: `${name}[${i}]: is not an object` }
    items.push(s)
  }
  return { items }
}

/**
 * An entry's scans, each a whole event (a shared tail merged back), or why it cannot be relayed. Only the envelope
 * is checked here (a JSON array of 1 to MaxScansPerJob objects, the tails a JSON array of objects, each scan's
 * `tail` an index into them); each scan is decoded by the persist task, which dead-letters a bad one on its own.
 */
export const readScanLogEntry = (fields: ReadonlyArray<string>): EntryRead => {
  let raw: string | undefined
  let rawTails: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === ScanLogField) raw = fields[i + 1]
    else if (fields[i] === ScanLogTailsField) rawTails = fields[i + 1]
  }
  if (raw === undefined)
    return { error: `scans: is missing (fields ${fields.filter((_, i) => i % 2 === 0).join(", ")})`, raw: fields }
  const scans = jsonArrayOf("scans", raw)
  if ("error" in scans) return { error: scans.error, raw }
  if (scans.items.length === 0) return { error: "scans: is empty", raw }
  if (scans.items.length > MaxScansPerJob)
    return { error: `scans: has ${scans.items.length} items, at most ${MaxScansPerJob}`, raw }
  const whole = rawTails === undefined ? raw : { scans: raw, tails: rawTails }
  const tails = rawTails === undefined ? { items: [] } : jsonArrayOf("tails", rawTails)
  if ("error" in tails) return { error: tails.error, raw: whole }
  const out: Array<unknown> = []
  for (let i = 0; i < scans.items.length; i++) {
    const scan = scans.items[i]!
    if (!("tail" in scan)) {
      out.push(scan)
      continue
    }
    const { tail: at, ...own } = scan
    const shared = typeof at === "number" && Number.isInteger(at) ? tails.items[at] : undefined
    if (shared === undefined)
      return {
        error: `scans[${i}].tail: is ${JSON.stringify(at)}, not an index of the entry's ${tails.items.length} tails`,
        raw: whole
      }
    out.push({ ...shared, ...own })
  }
  return { scans: out }
}
