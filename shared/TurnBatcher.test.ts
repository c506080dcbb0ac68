import { describe, expect, it } from "vitest"
import { makeTurnBatcher, makeWindowBatcher } from "./TurnBatcher.js"

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

describe("makeWindowBatcher", () => {
  const harness = (maxInFlight: number, maxBatch = 100) => {
    const sent: Array<ReadonlyArray<number>> = []
    const answers: Array<() => void> = []
    const b = makeWindowBatcher<number>(
      (batch, done) => {
        sent.push(batch)
        answers.push(done)
      },
      { maxInFlight, maxBatch }
    )
    return { b, sent, answers }
  }

  it("with the window open, a turn's items go together on the next turn", async () => {
    const { b, sent } = harness(2)
    b.push(1)
    b.push(2)
    expect(sent).toEqual([])
    await nextTurn()
    expect(sent).toEqual([[1, 2]])
    expect(b.inFlight()).toBe(1)
  })

  it("with the window full, what arrives waits and goes as one batch when a batch comes back", async () => {
    const { b, sent, answers } = harness(2)
    b.push(1)
    await nextTurn()
    b.push(2)
    await nextTurn()
    expect(sent).toEqual([[1], [2]])
    // two out: the next turns' items wait
    b.push(3)
    await nextTurn()
    b.push(4)
    b.push(5)
    await nextTurn()
    expect(sent).toEqual([[1], [2]])
    answers[0]!()
    answers[0]!() // a second done is ignored
    expect(b.inFlight()).toBe(1)
    await nextTurn()
    expect(sent).toEqual([[1], [2], [3, 4, 5]])
    expect(b.inFlight()).toBe(2)
    // nothing waits: an answer sends nothing
    answers[1]!()
    answers[2]!()
    await nextTurn()
    expect(sent).toHaveLength(3)
    expect(b.inFlight()).toBe(0)
  })

  it("splits what waits into batches of at most maxBatch, as many as the window takes", async () => {
    const { b, sent, answers } = harness(2, 3)
    for (let i = 1; i <= 8; i++) b.push(i)
    await nextTurn()
    expect(sent).toEqual([
      [1, 2, 3],
      [4, 5, 6]
    ])
    answers[0]!()
    await nextTurn()
    expect(sent[2]).toEqual([7, 8])
  })
})
