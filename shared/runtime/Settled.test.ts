import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { settledWithin } from "./Settled.js"

describe("settledWithin", () => {
  it("says whether a promise settled in time, and never waits past the limit", async () => {
    expect(await settledWithin(Promise.resolve(1), 1_000)).toBe(true)
    expect(await settledWithin(Promise.reject(new Error("closed")), 1_000)).toBe(true)
    const t0 = performance.now()
    expect(await settledWithin(new Promise(() => {}), 50)).toBe(false)
    expect(performance.now() - t0).toBeLessThan(1_000)
  })

  it("bounds a finalizer, where Effect.timeout cannot (finalizers run uninterruptibly)", async () => {
    const never = new Promise<void>(() => {})
    const bounded = Effect.scoped(Effect.addFinalizer(() => Effect.promise(() => settledWithin(never, 50))))
    const t0 = performance.now()
    await Effect.runPromise(bounded)
    expect(performance.now() - t0).toBeLessThan(1_000)
    // the pattern it replaces: the timeout fires, but the uninterruptible finalizer still waits for the promise
    const slow = new Promise<void>((r) => setTimeout(r, 400))
    const timedOut = Effect.scoped(
      Effect.addFinalizer(() => Effect.promise(() => slow).pipe(Effect.timeout("20 millis"), Effect.ignore))
    )
    const t1 = performance.now()
    await Effect.runPromise(timedOut)
    expect(performance.now() - t1).toBeGreaterThanOrEqual(350)
  })
})
