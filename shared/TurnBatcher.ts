/**
 * Collects what arrives in one event-loop turn and sends it as one batch on the next `setImmediate`:
 * concurrent requests share one round trip, and nobody waits on a timer.
 *
 * With a window (`maxInFlight`), at most that many batches are out at once: what arrives while the window is
 * full waits for a batch to come back and then goes as one batch (up to `maxBatch` items), so under load the
 * batches grow with the load, as they do not when every turn sends its own. `send` must call `done` once its
 * batch is answered or failed (a second call is ignored).
 */
export interface TurnBatcher<T> {
  readonly push: (item: T) => void
  /** send what is pending now, as far as the window takes (on shutdown) */
  readonly flushNow: () => void
  /** batches sent and not yet done */
  readonly inFlight: () => number
}

export const makeWindowBatcher = <T>(
  send: (batch: ReadonlyArray<T>, done: () => void) => void,
  o: { readonly maxInFlight: number; readonly maxBatch: number }
): TurnBatcher<T> => {
  let pending: Array<T> = []
  let scheduled = false
  let inFlight = 0
  const schedule = () => {
    if (!scheduled && pending.length > 0) {
      scheduled = true
      setImmediate(pump)
    }
  }
  function pump() {
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
    flushNow: pump,
    inFlight: () => inFlight
  }
}

/** A turn batcher without a window: every turn's items go at once, however many batches are out. */
export const makeTurnBatcher = <T>(flush: (batch: ReadonlyArray<T>) => void): TurnBatcher<T> =>
  makeWindowBatcher<T>(
    (batch, done) => {
      done()
      flush(batch)
    },
    { maxInFlight: Number.POSITIVE_INFINITY, maxBatch: Number.POSITIVE_INFINITY }
  )
