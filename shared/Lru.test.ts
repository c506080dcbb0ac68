import { describe, expect, it } from "vitest"
import { Lru } from "./Lru.js"

describe("Lru", () => {
  it("keeps at most `max` entries, dropping the least recently used", () => {
    const l = new Lru<string, number>(2, 60_000)
    l.set("a", 1)
    l.set("b", 2)
    expect(l.get("a")).toBe(1) // a is now the most recent
    l.set("c", 3)
    expect(l.get("b")).toBeUndefined()
    expect([l.get("a"), l.get("c"), l.size]).toEqual([1, 3, 2])
  })

  it("a hit on the newest entry keeps it newest; a hit on any other moves it there, after sets, hits and deletes", () => {
    const l = new Lru<string, number>(2, 60_000)
    l.set("a", 1)
    l.set("b", 2)
    expect([l.get("b"), l.get("b"), l.get("a")]).toEqual([2, 2, 1]) // a moved past b
    l.set("c", 3) // b is the oldest
    expect([l.get("b"), l.get("a"), l.get("c")]).toEqual([undefined, 1, 3])
    l.delete("c")
    l.set("d", 4)
    expect(l.get("a")).toBe(1) // a, then d was newest: a moves past d
    l.set("e", 5)
    expect([l.get("d"), l.get("a"), l.get("e")]).toEqual([undefined, 1, 5])
  })

  it("forgets an entry once its TTL has passed", () => {
    const l = new Lru<string, number>(10, 60_000)
    l.set("a", 1, -1)
    expect(l.get("a")).toBeUndefined()
    expect(l.size).toBe(0)
  })

  it("with a budget, holds at most its weight: the oldest go first, the weight follows every removal", () => {
    const l = new Lru<string, string>(100, 60_000, { maxWeight: 10, weigh: (v) => v.length })
    l.set("a", "xxxx")
    l.set("b", "yyyy")
    expect(l.weight).toBe(8)
    l.set("c", "zzzz") // 12 > 10: a goes
    expect([l.get("a"), l.size, l.weight]).toEqual([undefined, 2, 8])
    l.set("b", "y") // replacing an entry counts its new weight only
    expect(l.weight).toBe(5)
    l.delete("c")
    expect(l.weight).toBe(1)
    l.set("d", "dd")
    expect(l.deleteWhere((k) => k === "d")).toBe(1)
    expect([l.weight, l.size]).toEqual([1, 1])
    l.set("e", "e", -1)
    expect(l.get("e")).toBeUndefined()
    expect(l.weight).toBe(1)
    l.clear()
    expect([l.weight, l.size]).toEqual([0, 0])
  })

  it("does not keep an entry heavier than the whole budget, and keeps the rest", () => {
    const l = new Lru<string, string>(100, 60_000, { maxWeight: 10, weigh: (v) => v.length })
    l.set("a", "aaa")
    l.set("big", "x".repeat(11))
    expect([l.get("big"), l.get("a"), l.weight]).toEqual([undefined, "aaa", 3])
  })

  it("under churn (hits, sets, deletes, evictions) holds exactly what a list kept by recency holds, in that order", () => {
    const l = new Lru<number, number>(50, 60_000)
    // the reference: keys from least to most recently used
    let order: Array<number> = []
    let seed = 7
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % 120
    }
    for (let i = 0; i < 20_000; i++) {
      const k = next()
      const op = i % 7
      if (op === 0) {
        l.delete(k)
        order = order.filter((x) => x !== k)
      } else if (l.get(k) === undefined) {
        expect(order.includes(k)).toBe(false)
        l.set(k, k * 2)
        order.push(k)
        if (order.length > 50) order.shift()
      } else {
        expect(order.includes(k)).toBe(true)
        order = [...order.filter((x) => x !== k), k]
      }
      expect(l.size).toBe(order.length)
    }
    // every key still held answers its value; none other does
    for (let k = 0; k < 120; k++) expect(l.get(k)).toBe(order.includes(k) ? k * 2 : undefined)
  })
})
