/**
 * Waits for a promise at most `ms`; true when it settled in time. For finalizers: they run uninterruptibly,
 * so an `Effect.timeout` around a promise there waits for the promise anyway (it cannot interrupt it).
 */
export const settledWithin = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    p.then(
      () => resolve(true),
      () => resolve(true)
    ).finally(() => clearTimeout(timer))
  })
