/** What an LRU may hold in all, besides its entry count: a weight per entry (e.g. its approximate bytes). */
export interface LruBudget<V> {
  readonly maxWeight: number
  readonly weigh: (value: V) => number
}

/** an entry, linked from the most recently used (`newer` = undefined) to the least (`older` = undefined) */
interface Entry<K, V> {
  readonly key: K
  value: V
  expiresAt: number
  weight: number
  newer: Entry<K, V> | undefined
  older: Entry<K, V> | undefined
}

/**
 * A small LRU with a per-entry TTL: a Map from key to entry, the entries in a doubly linked list by recency, so a hit,
 * a set and an eviction each change a few links and never the Map's order. Bounded by its entry count and, with a
 * budget, by the total weight of its entries: the least recently used go first until both hold.
 *
 * Until 7 December (night) the order was the Map's own insertion order (a hit deleted and re-inserted its key, an
 * eviction took `keys().next()`): every hit left a deleted slot at the front of V8's hash table, which the next
 * eviction's iterator stepped over one by one, so under churn — a cold scan's tags, most of them new — `get` and
 * `set` cost ~3 µs each at 16,000 entries (a quarter of the tag cache's work in the gateway's cold profile).
 */
export class Lru<K, V> {
  private readonly map = new Map<K, Entry<K, V>>()
  private total = 0
  private newest: Entry<K, V> | undefined = undefined
  private oldest: Entry<K, V> | undefined = undefined

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly budget?: LruBudget<V>
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt <= Date.now()) {
      this.remove(e)
      return undefined
    }
    if (e !== this.newest) {
      this.unlink(e)
      this.pushNewest(e)
    }
    return e.value
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    const old = this.map.get(key)
    if (old !== undefined) this.remove(old)
    const weight = this.budget === undefined ? 0 : this.budget.weigh(value)
    // an entry heavier than the whole budget is not kept (it would evict everything else and then itself)
    if (this.budget !== undefined && weight > this.budget.maxWeight) return
    const e: Entry<K, V> = { key, value, expiresAt: Date.now() + ttlMs, weight, newer: undefined, older: undefined }
    this.map.set(key, e)
    this.pushNewest(e)
    this.total += weight
    while (this.map.size > this.max || (this.budget !== undefined && this.total > this.budget.maxWeight)) {
      const last = this.oldest
      if (last === undefined) break
      this.remove(last)
    }
  }

  delete(key: K): void {
    const e = this.map.get(key)
    if (e !== undefined) this.remove(e)
  }

  /** drops every entry whose key matches (cache invalidation by owner or garment) */
  deleteWhere(pred: (key: K, value: V) => boolean): number {
    let n = 0
    for (const e of this.map.values()) {
      if (pred(e.key, e.value)) {
        this.remove(e)
        n++
      }
    }
    return n
  }

  clear(): void {
    this.map.clear()
    this.newest = undefined
    this.oldest = undefined
    this.total = 0
  }

  get size(): number {
    return this.map.size
  }

  /** the total weight held (0 without a budget) */
  get weight(): number {
    return this.total
  }

  private remove(e: Entry<K, V>): void {
    this.map.delete(e.key)
    this.unlink(e)
    this.total -= e.weight
  }

  private unlink(e: Entry<K, V>): void {
    if (e.newer === undefined) this.newest = e.older
    else e.newer.older = e.older
    if (e.older === undefined) this.oldest = e.newer
    else e.older.newer = e.newer
    e.newer = undefined
    e.older = undefined
  }

  private pushNewest(e: Entry<K, V>): void {
    e.older = this.newest
    e.newer = undefined
    if (this.newest === undefined) this.oldest = e
    else this.newest.newer = e
    this.newest = e
  }
}
