import { describe, expect, it } from "vitest"
import { makeTurnBatcher } from "./TurnBatcher.js"

const nextTurn = () => new Promise<void>((r) => setImmediate(r))

describe("makeTurnBatcher", () => {
  it("hands everything pushed in one turn to one flush, and later pushes to the next", async () => {
    const flushed: Array<ReadonlyArray<number>> = []
    const b = makeTurnBatcher<number>((batch) => flushed.push(batch))
    b.push(1)
    b.push(2)
    b.push(3)
    expect(flushed).toEqual([])
    await nextTurn()
    expect(flushed).toEqual([[1, 2, 3]])
    b.push(4)
    await nextTurn()
    expect(flushed).toEqual([[1, 2, 3], [4]])
  })

  it("flushNow sends what is pending at once and never flushes an empty batch", async () => {
    const flushed: Array<ReadonlyArray<string>> = []
    const b = makeTurnBatcher<string>((batch) => flushed.push(batch))
    b.flushNow()
    b.push("a")
    b.flushNow()
    expect(flushed).toEqual([["a"]])
    await nextTurn()
    expect(flushed).toEqual([["a"]])
  })
})
