import { describe, expect, it } from "vitest"
import { classifyAnomalies } from "./Integrity.js"

const h = (n: number) => n.toString(16).padStart(64, "0")

describe("classifyAnomalies", () => {
  it("a sound log has nothing to classify", () => {
    const r = classifyAnomalies({
      anomalies: [],
      gaps: [],
      positions: () => undefined,
      presentElsewhere: () => false,
      size: 1_000_000,
      lastRow: 999_999,
      maxListed: 10
    })
    expect(r.violations).toEqual([])
  })

  it("a tail cut far back (rows, nodes and sequencer) is one truncation counted exactly, in O(1) memory", () => {
    // Rows and reference end at 1,000; the checkpoints say 5,000,000: one gap, not four million anomalies.
    const r = classifyAnomalies({
      anomalies: [],
      gaps: [{ start: 1000, end: 5_000_000 }],
      positions: () => undefined,
      presentElsewhere: () => false,
      size: 5_000_000,
      lastRow: 999,
      maxListed: 10
    })
    expect(r.violations).toEqual([{ kind: "truncated", index: 1000, detail: "4999000 trailing leaves are gone" }])
  })

  it("lists at most maxListed findings of a kind but counts all of them", () => {
    // Rows 10..39 deleted in the middle of the log (reference intact): 30 deletions.
    const anomalies = Array.from({ length: 30 }, (_, i) => ({ index: 10 + i, ref: h(10 + i), row: undefined }))
    const r = classifyAnomalies({
      anomalies,
      gaps: [],
      positions: () => undefined,
      presentElsewhere: () => false,
      size: 100,
      lastRow: 99,
      maxListed: 5
    })
    expect(r.counts.deleted).toBe(30)
    expect(r.violations.map((v) => `${v.kind}@${v.index}`)).toEqual([
      "deleted@10",
      "deleted@11",
      "deleted@12",
      "deleted@13",
      "deleted@14"
    ])
  })

  it("a content that moved backwards past later ones is a reorder; a shift keeps the order", () => {
    // Row 5 holds what was sequenced at 8 and row 8 what was sequenced at 5.
    const swapped = classifyAnomalies({
      anomalies: [
        { index: 5, ref: h(5), row: { hash: h(8), hashColumnOk: true } },
        { index: 8, ref: h(8), row: { hash: h(5), hashColumnOk: true } }
      ],
      gaps: [],
      positions: (x) => (x === h(8) ? [8] : x === h(5) ? [5] : undefined),
      presentElsewhere: () => false,
      size: 20,
      lastRow: 19,
      maxListed: 10
    })
    expect(swapped.violations.map((v) => `${v.kind}@${v.index}`)).toEqual([
      "reordered@5",
      "reordered@6",
      "reordered@7",
      "reordered@8"
    ])
    // Rows 15..19 renumbered down by one after a deletion at 15: only the deletion is reported.
    const shifted = classifyAnomalies({
      anomalies: [
        ...Array.from({ length: 4 }, (_, i) => ({
          index: 15 + i,
          ref: h(15 + i),
          row: { hash: h(16 + i), hashColumnOk: true }
        })),
        { index: 19, ref: h(19), row: undefined }
      ],
      gaps: [],
      positions: (x) => {
        const n = Number.parseInt(x, 16)
        return n >= 16 && n <= 19 ? [n] : undefined
      },
      presentElsewhere: () => false,
      size: 20,
      lastRow: 18,
      maxListed: 10
    })
    expect(shifted.violations.map((v) => `${v.kind}@${v.index}`)).toEqual(["deleted@15"])
  })
})
