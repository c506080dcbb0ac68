/** What an LRU may hold in all, besides its entry count: a weight per entry (e.g. its approximate bytes). */
export interface LruBudget<V> {
  readonly maxWeight: number
  readonly weigh: (value: V) => number
}

/**
 * A small LRU with a per-entry TTL (Map keeps insertion order; a hit re-inserts the entry). Bounded by its
 * entry count and, with a budget, by the total weight of its entries: the oldest go first until both hold.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number; weight: number }>()
  private total = 0
  /** the key set or re-inserted last: a hit on it is already the most recent, no re-insert needed */
  private newest: K | undefined = undefined

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly budget?: LruBudget<V>
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt <= Date.now()) {
      this.delete(key)
      return undefined
    }
    // a hot cache hits the same entry again and again: moving the newest entry to the end changes nothing
    if (key !== this.newest) {
      this.map.delete(key)
      this.map.set(key, e)
      this.newest = key
    }
    return e.value
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    this.delete(key)
    const weight = this.budget === undefined ? 0 : this.budget.weigh(value)
    // an entry heavier than the whole budget is not kept (it would evict everything else and then itself)
    if (this.budget !== undefined && weight > this.budget.maxWeight) return
    this.map.set(key, { value, expiresAt: Date.now() + ttlMs, weight })
    this.newest = key
    this.total += weight
    while (this.map.size > this.max || (this.budget !== undefined && this.total > this.budget.maxWeight)) {
      const oldest = this.map.keys().next()
      if (oldest.done === true) break
      this.delete(oldest.value)
    }
  }

  delete(key: K): void {
    const e = this.map.get(key)
    if (e === undefined) return
    this.map.delete(key)
    if (key === this.newest) this.newest = undefined
    this.total -= e.weight
  }

  /** drops every entry whose key matches (cache invalidation by owner or garment) */
  deleteWhere(pred: (key: K, value: V) => boolean): number {
    let n = 0
    for (const [k, e] of this.map) {
      if (pred(k, e.value)) {
        this.delete(k)
        n++
      }
    }
    return n
  }

  clear(): void {
    this.map.clear()
    this.newest = undefined
    this.total = 0
  }

  get size(): number {
    return this.map.size
  }

  /** the total weight held (0 without a budget) */
  get weight(): number {
    return this.total
  }
}
