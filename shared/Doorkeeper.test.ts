import { describe, expect, it } from "vitest"
import { Doorkeeper } from "./Doorkeeper.js"

const tag = (i: number) => `https://id.brandme.example/01/09506000134352/21/SN${i}`

describe("Doorkeeper", () => {
  it("says no to a key's first offer and yes to its next ones", () => {
    const d = new Doorkeeper(1000)
    expect(d.offer(tag(1))).toBe(false)
    expect(d.offer(tag(1))).toBe(true)
    expect(d.offer(tag(1))).toBe(true)
    expect(d.offer(tag(2))).toBe(false)
    expect(d.offer(tag(2))).toBe(true)
  })

  it("rarely takes a new key for one it has seen, with its window full of distinct keys", () => {
    const window = 20_000
    const d = new Doorkeeper(window)
    // one offer short of the reset: every key stays remembered
    for (let i = 0; i < window / 2; i++) d.offer(tag(i))
    let falseYes = 0
    for (let i = window / 2; i < window - 1; i++) if (d.offer(tag(i))) falseYes++
    expect(falseYes / (window / 2)).toBeLessThan(0.03)
    // and every key it was offered still reads as seen
    const d2 = new Doorkeeper(window)
    for (let i = 0; i < 5000; i++) d2.offer(tag(i))
    for (let i = 0; i < 5000; i++) expect(d2.offer(tag(i))).toBe(true)
  })

  it("forgets every key after its window of offers", () => {
    const d = new Doorkeeper(100)
    expect(d.offer("a")).toBe(false)
    for (let i = 0; i < 98; i++) d.offer(`k${i}`)
    // the 100th offer since the start: "a" is still remembered, then everything is forgotten
    expect(d.offer("a")).toBe(true)
    expect(d.offer("a")).toBe(false)
  })

  it("refuses a window that is not a whole number above 0", () => {
    expect(() => new Doorkeeper(0)).toThrow(/whole number of offers above 0, not 0/)
    expect(() => new Doorkeeper(1.5)).toThrow(/not 1.5/)
  })
})
