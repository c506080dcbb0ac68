/**
 * Collects what arrives in one event-loop turn and hands it to `flush` as one batch on the next
 * `setImmediate`: concurrent requests share one round trip, and nobody waits on a timer.
 */
export interface TurnBatcher<T> {
  readonly push: (item: T) => void
  /** flush what is pending now (on shutdown) */
  readonly flushNow: () => void
}

export const makeTurnBatcher = <T>(flush: (batch: ReadonlyArray<T>) => void): TurnBatcher<T> => {
  let pending: Array<T> = []
  let scheduled = false
  const flushNow = () => {
    scheduled = false
    const batch = pending
    pending = []
    if (batch.length > 0) flush(batch)
  }
  return {
    push: (item) => {
      pending.push(item)
      if (!scheduled) {
        scheduled = true
        setImmediate(flushNow)
      }
    },
    flushNow
  }
}
