import { Effect, Either, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeRateLimiterTest, RateLimited, RateLimiter, enforceScanLimits, respondRateLimited } from "./RateLimit.js"

describe("rate limiter (in-memory test layer, same algorithm)", () => {
  it("refuses the N+1-th request and names the limit", async () => {
    const { layer } = makeRateLimiterTest()
    const rule = { name: "login", key: "k", limit: 2, windowSeconds: 60 }
    const out = await Effect.runPromise(
      Effect.flatMap(RateLimiter, (l) =>
        Effect.all([l.enforce([rule]), l.enforce([rule]), Effect.either(l.enforce([rule]))])
      ).pipe(Effect.provide(layer))
    )
    expect(out[0].remaining).toBe(1)
    expect(out[1].remaining).toBe(0)
    const third = out[2]
    expect(Either.isLeft(third) && third.left.limit).toBe("login")
    expect(Either.isLeft(third) && third.left.retryAfterSeconds).toBeGreaterThanOrEqual(59)
  })

  it("scan limits: anonymous scanners are limited by IP only, signed-in ones by client too", async () => {
    const { layer, logs } = makeRateLimiterTest()
    const limits = { perClient: { limit: 1, windowSeconds: 60 }, perIp: { limit: 5, windowSeconds: 60 } }
    const r = await Effect.runPromise(
      Effect.gen(function* () {
        yield* enforceScanLimits({ clientId: Option.none(), ip: "198.51.100.1", limits })
        yield* enforceScanLimits({ clientId: Option.some("device:d1"), ip: "198.51.100.1", limits })
        return yield* Effect.either(
          enforceScanLimits({ clientId: Option.some("device:d1"), ip: "198.51.100.1", limits })
        )
      }).pipe(Effect.provide(layer))
    )
    expect(Either.isLeft(r) && r.left.limit).toBe("client")
    expect([...logs.keys()].sort()).toEqual(["client:scan:device:d1", "ip:scan:198.51.100.1"])
  })

  it("respondRateLimited turns the error into a 429 response with Retry-After", async () => {
    const res = await Effect.runPromise(
      respondRateLimited(Effect.fail(new RateLimited({ message: "slow down", limit: "ip", retryAfterSeconds: 7 })))
    )
    expect(res.status).toBe(429)
    expect(res.headers["retry-after"]).toBe("7")
  })
})
