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

/**
 * A turn batcher with a window: at most `maxInFlight` batches out at once. What arrives while the window is
 * full waits for a batch to come back and then goes as one batch (up to `maxBatch` items): under load the
 * batches grow with the load, as they do not when every turn sends its own; with the window open (no load) an
 * item goes on the next `setImmediate`, as with `makeTurnBatcher`. `send` must call `done` once its batch is
 * answered or failed (a second call is ignored).
 */
export const makeWindowBatcher = <T>(
  send: (batch: ReadonlyArray<T>, done: () => void) => void,
  o: { readonly maxInFlight: number; readonly maxBatch: number }
): { readonly push: (item: T) => void; readonly inFlight: () => number } => {
  let pending: Array<T> = []
  let scheduled = false
  let inFlight = 0
  const schedule = () => {
    if (!scheduled && pending.length > 0) {
      scheduled = true
      setImmediate(pump)
    }
  }
  const pump = () => {
    scheduled = false
    while (pending.length > 0 && inFlight < o.maxInFlight) {
      const batch = pending.length <= o.maxBatch ? pending : pending.slice(0, o.maxBatch)
      pending = pending.length <= o.maxBatch ? [] : pending.slice(o.maxBatch)
      inFlight++
      let answered = false
      send(batch, () => {
        if (answered) return
        answered = true
        inFlight--
        schedule()
      })
    }
  }
  return {
    push: (item) => {
      pending.push(item)
      schedule()
    },
    inFlight: () => inFlight
  }
}
