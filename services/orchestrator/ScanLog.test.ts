import { describe, expect, it } from "vitest"
import { MaxScansPerJob } from "../../shared/domain/Scan.js"
import { readScanLogEntry, ScanLogField, scanLogEntries } from "./ScanLog.js"
import { relayJobs } from "./scans/Relay.js"

const scans = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ scanId: `s${from + i}` }))
const texts = (n: number) => scans(n).map((s) => JSON.stringify(s))

describe("the scan log's entries", () => {
  it("one entry per turn, split only past MaxScansPerJob, none for no scans", () => {
    expect(scanLogEntries([])).toEqual([])
    expect(scanLogEntries(texts(3)).map((e) => JSON.parse(e))).toEqual([scans(3)])
    expect(scanLogEntries(texts(MaxScansPerJob)).length).toBe(1)
    const split = scanLogEntries(texts(2 * MaxScansPerJob + 5)).map((e) => JSON.parse(e) as Array<{ scanId: string }>)
    expect(split.map((e) => e.length)).toEqual([MaxScansPerJob, MaxScansPerJob, 5])
    expect(split.flat().map((s) => s.scanId)).toEqual(scans(2 * MaxScansPerJob + 5).map((s) => s.scanId))
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
