/** A small LRU with a per-entry TTL (Map keeps insertion order; a hit re-inserts the entry). */
export class Lru<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number }>()
  constructor(
    private readonly max: number,
    private readonly ttlMs: number
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt <= Date.now()) {
      this.map.delete(key)
      return undefined
    }
    this.map.delete(key)
    this.map.set(key, e)
    return e.value
  }

  set(key: K, value: V, ttlMs: number = this.ttlMs): void {
    this.map.delete(key)
    this.map.set(key, { value, expiresAt: Date.now() + ttlMs })
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next()
      if (oldest.done !== true) this.map.delete(oldest.value)
    }
  }

  delete(key: K): void {
    this.map.delete(key)
  }

  /** drops every entry whose key matches (cache invalidation by owner or garment) */
  deleteWhere(pred: (key: K, value: V) => boolean): number {
    let n = 0
    for (const [k, e] of this.map) {
      if (pred(k, e.value)) {
        this.map.delete(k)
        n++
      }
    }
    return n
  }

  clear(): void {
    this.map.clear()
  }

  get size(): number {
    return this.map.size
  }
}
