import { describe, expect, it } from "vitest"
import { MaxScansPerJob } from "../../shared/domain/Scan.js"
import { type LoggedScan, readScanLogEntry, ScanLogField, ScanLogTailsField, scanLogEntries } from "./ScanLog.js"
import { relayJobs } from "./scans/Relay.js"

const scans = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ scanId: `s${from + i}` }))
/** scans as the gateway splices them: each its own id, the rest (`garment`) shared by the scans of one garment */
const logged = (garments: ReadonlyArray<string>, from = 0): Array<LoggedScan> =>
  garments.map((g, i) => ({
    head: `{"scanId":"s${from + i}",`,
    tail: `"garmentId":"${g}","decision":{"regime":"gdpr","allowed":[{"group":"care","reason":"always — été"}]}}`
  }))
const wholeOf = (s: LoggedScan) => JSON.parse(s.head + s.tail) as Record<string, unknown>
const same = (n: number, from = 0) =>
  logged(
    Array.from({ length: n }, () => "g1"),
    from
  )
/** what the relay reads back from each entry */
const readBack = (entries: ReadonlyArray<ReadonlyArray<string>>) =>
  entries.map((fields) => {
    const r = readScanLogEntry(fields)
    if ("error" in r) throw new Error(r.error)
    return r.scans
  })

describe("the scan log's entries", () => {
  it("one entry per turn, split only past MaxScansPerJob, none for no scans; read back as the whole events", () => {
    expect(scanLogEntries([])).toEqual([])
    expect(readBack(scanLogEntries(same(3)))).toEqual([same(3).map(wholeOf)])
    expect(scanLogEntries(same(MaxScansPerJob)).length).toBe(1)
    const all = same(2 * MaxScansPerJob + 5)
    const split = readBack(scanLogEntries(all))
    expect(split.map((e) => e.length)).toEqual([MaxScansPerJob, MaxScansPerJob, 5])
    expect(split.flat()).toEqual(all.map(wholeOf))
  })

  it("writes a tail that scans of the entry share once, and a tail no other scan has within its scan", () => {
    const turn = logged(["g1", "g2", "g1", "g3", "g1", "g2"])
    const [fields, ...more] = scanLogEntries(turn)
    expect(more).toEqual([])
    expect(fields?.filter((_, i) => i % 2 === 0)).toEqual([ScanLogField, ScanLogTailsField])
    const tails = JSON.parse(fields?.[3] ?? "") as Array<{ garmentId: string }>
    expect(tails.map((t) => t.garmentId)).toEqual(["g1", "g2"])
    const items = JSON.parse(fields?.[1] ?? "") as Array<Record<string, unknown>>
    expect(items.map((s) => s.tail ?? s.garmentId)).toEqual([0, 1, 0, "g3", 0, 1])
    // the entry is far smaller than the events it carries
    const whole = turn.map((s) => s.head + s.tail).join(",").length
    expect((fields?.[1] ?? "").length + (fields?.[3] ?? "").length).toBeLessThan(whole)
    expect(readBack([fields ?? []])).toEqual([turn.map(wholeOf)])
    // no tail shared: no tails field, every scan whole
    expect(scanLogEntries(logged(["g1", "g2"]))).toEqual([
      [ScanLogField, JSON.stringify(logged(["g1", "g2"]).map(wholeOf))]
    ])
    // a tail is shared within an entry only: each part of a split turn carries its own
    const parts = scanLogEntries(same(MaxScansPerJob + 2))
    expect(parts.map((f) => JSON.parse(f[3] ?? "[]").length)).toEqual([1, 1])
  })

  it("reads an entry back, or names what is wrong with it", () => {
    expect(readScanLogEntry([ScanLogField, JSON.stringify(scans(2))])).toEqual({ scans: scans(2) })
    const error = (fields: Array<string>) => {
      const r = readScanLogEntry(fields)
      return "error" in r ? r.error : "read"
    }
    expect(error(["x", "[]"])).toBe("scans: is missing (fields x)")
    expect(error([ScanLogField, "[{"])).toMatch(/^scans: is not JSON \(/)
    expect(error([ScanLogField, "{}"])).toBe("scans: is not an array")
    expect(error([ScanLogField, "[]"])).toBe("scans: is empty")
    expect(error([ScanLogField, "[{}, null]"])).toBe("scans[1]: is not an object")
    expect(error([ScanLogField, JSON.stringify(scans(MaxScansPerJob + 1))])).toBe(
      `scans: has ${MaxScansPerJob + 1} items, at most ${MaxScansPerJob}`
    )
    const withTails = (items: unknown, tails: string) =>
      error([ScanLogField, JSON.stringify(items), ScanLogTailsField, tails])
    expect(withTails([{ scanId: "a", tail: 0 }], "[{")).toMatch(/^tails: is not JSON \(/)
    expect(withTails([{ scanId: "a", tail: 0 }], "{}")).toBe("tails: is not an array")
    expect(withTails([{ scanId: "a", tail: 0 }], "[{}, 3]")).toBe("tails[1]: is not an object")
    expect(withTails([{ scanId: "a" }, { scanId: "b", tail: 1 }], "[{}]")).toBe(
      "scans[1].tail: is 1, not an index of the entry's 1 tails"
    )
    // a scan that points at a tail in an entry without any
    expect(error([ScanLogField, JSON.stringify([{ scanId: "a", tail: 0 }])])).toBe(
      "scans[0].tail: is 0, not an index of the entry's 0 tails"
    )
    expect(withTails([{ scanId: "a", tail: "0" }], "[{}]")).toBe(
      `scans[0].tail: is "0", not an index of the entry's 1 tails`
    )
    // the scan's own fields win over its tail's; the tail index is not part of the event
    expect(
      readScanLogEntry([
        ScanLogField,
        JSON.stringify([{ scanId: "a", tail: 0 }]),
        ScanLogTailsField,
        '[{"scanId":"x","g":1}]'
      ])
    ).toEqual({ scans: [{ scanId: "a", g: 1 }] })
  })
})

describe("the relay's jobs", () => {
  it("groups consecutive whole entries up to MaxScansPerJob scans, each job named by its first and last entry", () => {
    const entries = [
      { id: "1-0", scans: scans(400, 0) },
      { id: "1-1", scans: scans(600, 400) },
      { id: "2-0", scans: scans(1, 1000) },
      { id: "3-0", scans: scans(MaxScansPerJob, 1001) },
      { id: "4-0", scans: scans(2, 2001) }
    ]
    const jobs = relayJobs(entries)
    expect(jobs.map((j) => [j.opts.jobId, j.data.scans.length])).toEqual([
      ["scans-log-1-0-1-1", 1000],
      ["scans-log-2-0-2-0", 1],
      ["scans-log-3-0-3-0", MaxScansPerJob],
      ["scans-log-4-0-4-0", 2]
    ])
    expect(jobs.flatMap((j) => j.data.scans)).toEqual(entries.flatMap((e) => e.scans))
    expect(jobs.every((j) => j.name === "persist_scan_event" && (j.opts.attempts ?? 0) >= 3)).toBe(true)
    expect(relayJobs([])).toEqual([])
  })
})
