import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import {
  clientIpOf,
  makeRateLimiterTest,
  publicRules,
  RateLimited,
  RateLimiter,
  respondRateLimited
} from "./RateLimit.js"

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

  it("public routes: anonymous callers are limited by IP only, known clients by client too; overrides win", async () => {
    const { layer } = makeRateLimiterTest()
    const settings = {
      perIp: { limit: 5, windowSeconds: 60 },
      perClient: { limit: 1, windowSeconds: 60 },
      overrides: { "ip:10.0.0.9": { limit: 1000, windowSeconds: 60 } }
    }
    const anonymous = publicRules(settings, "198.51.100.1", undefined)
    expect(anonymous.map((r) => [r.name, r.limit])).toEqual([["ip", 5]])
    expect(anonymous[0]!.key).not.toContain("198.51.100.1")
    const signedIn = publicRules(settings, "198.51.100.1", "user:u1")
    expect(signedIn.map((r) => [r.name, r.limit])).toEqual([
      ["client", 1],
      ["ip", 5]
    ])
    expect(publicRules(settings, "10.0.0.9", undefined)[0]!.limit).toBe(1000)
    const r = await Effect.runPromise(
      Effect.gen(function* () {
        const l = yield* RateLimiter
        yield* l.enforce(anonymous)
        yield* l.enforce(signedIn)
        return yield* Effect.either(l.enforce(signedIn))
      }).pipe(Effect.provide(layer))
    )
    expect(Either.isLeft(r) && r.left.limit).toBe("client")
  })

  it("the caller's address: the hop our outermost trusted proxy saw, else the socket peer", () => {
    const xff = "6.6.6.6, 198.51.100.7, 10.0.0.2"
    expect(clientIpOf(xff, "10.0.0.3", 1)).toBe("10.0.0.2") // one proxy (the ingress)
    expect(clientIpOf(xff, "10.0.0.3", 2)).toBe("198.51.100.7") // CDN + ingress
    expect(clientIpOf(xff, "10.0.0.3", 0)).toBe("10.0.0.3") // no proxy: the header is the client's own
    expect(clientIpOf("198.51.100.7", "10.0.0.3", 3)).toBe("10.0.0.3") // fewer hops than proxies: bypassed
    expect(clientIpOf(undefined, undefined, 1)).toBe("unknown")
  })

  it("the test limiter refuses checkAndRead loudly, naming the method", async () => {
    const { layer } = makeRateLimiterTest()
    const limiter = Effect.runSync(Effect.provide(RateLimiter, layer))
    await expect(limiter.checkAndRead([], ["k"])).rejects.toThrow("RateLimiter.checkAndRead")
  })

  it("respondRateLimited turns the error into a 429 response with Retry-After", async () => {
    const res = await Effect.runPromise(
      respondRateLimited(Effect.fail(new RateLimited({ message: "slow down", limit: "ip", retryAfterSeconds: 7 })))
    )
    expect(res.status).toBe(429)
    expect(res.headers["retry-after"]).toBe("7")
  })
})
