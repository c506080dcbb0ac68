import { randomBytes } from "node:crypto"
import { Effect, Either, Layer, Option } from "effect"
import { Redis as IORedis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { makeRedisLayer } from "../layers/Redis.js"
import { RateLimited, RateLimiter, RateLimiterLive, type RateLimitRule, rateLimitedResponse } from "./RateLimit.js"

const prefix = `t_ratelimit_${randomBytes(4).toString("hex")}:`
const layer = RateLimiterLive.pipe(
  Layer.provide(makeRedisLayer({ url: "redis://127.0.0.1:6379", keyPrefix: prefix, connectionName: "ratelimit-itest" }))
)
const run = <A, E>(e: Effect.Effect<A, E, RateLimiter>) => Effect.runPromise(Effect.provide(e, layer))

afterAll(async () => {
  const r = new IORedis("redis://127.0.0.1:6379")
  const keys = await r.keys(`${prefix}*`)
  if (keys.length > 0) await r.del(...keys)
  await r.quit()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `n` checks of one rule, all at once on one limiter (its batcher sends a turn's checks in one script run) */
const checkAtOnce = (rule: RateLimitRule, n: number) =>
  run(
    Effect.flatMap(RateLimiter, (l) =>
      Effect.forEach(
        Array.from({ length: n }, () => rule),
        (r) => l.check([r]),
        { concurrency: "unbounded" }
      )
    )
  )

describe("sliding-window rate limits on Redis", () => {
  it("admits N in the window, refuses the N+1-th with Retry-After, and admits again once the window slides", async () => {
    const rule = { name: "client", key: "user:1", limit: 3, windowSeconds: 2 }
    await run(
      Effect.gen(function* () {
        const limiter = yield* RateLimiter
        const remaining: Array<number> = []
        for (let i = 0; i < 3; i++) remaining.push((yield* limiter.enforce([rule])).remaining)
        expect(remaining).toEqual([2, 1, 0])
        const refused = yield* Effect.either(limiter.enforce([rule]))
        expect(Either.isLeft(refused)).toBe(true)
        if (Either.isLeft(refused)) {
          expect(refused.left).toBeInstanceOf(RateLimited)
          expect(refused.left.limit).toBe("client")
          expect(refused.left.retryAfterSeconds).toBeGreaterThanOrEqual(1)
          expect(refused.left.retryAfterSeconds).toBeLessThanOrEqual(2)
          const response = rateLimitedResponse(refused.left)
          expect(response.status).toBe(429)
          expect(response.headers["retry-after"]).toBe(String(refused.left.retryAfterSeconds))
        }
      })
    )
    await sleep(2100)
    const again = await run(Effect.flatMap(RateLimiter, (l) => l.enforce([rule])))
    expect(again.allowed).toBe(true)
    expect(again.remaining).toBe(2)
  })

  it("checks every rule atomically: a refusal by one rule consumes nothing from the others", async () => {
    const ip = { name: "ip", key: "ip:203.0.113.9", limit: 1, windowSeconds: 30 }
    const clientA = { name: "client", key: "device:a", limit: 5, windowSeconds: 30 }
    const clientB = { name: "client", key: "device:b", limit: 5, windowSeconds: 30 }
    await run(
      Effect.gen(function* () {
        const limiter = yield* RateLimiter
        expect((yield* limiter.check([clientA, ip])).allowed).toBe(true)
        const refused = yield* limiter.check([clientB, ip])
        expect(refused.allowed).toBe(false)
        expect(refused.limitedBy).toEqual(Option.some("ip"))
        // device b was not charged for the refused request
        expect((yield* limiter.check([clientB])).remaining).toBe(4)
      })
    )
  })

  it("holds the limit exactly under 50 concurrent requests", async () => {
    const rule = { name: "client", key: "burst", limit: 20, windowSeconds: 30 }
    const decisions = await checkAtOnce(rule, 50)
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20)
  })

  it("a turn of 1,500 requests on one key admits exactly the limit and logs each admission once; the refused wait for the oldest", async () => {
    // one script run: the admissions are counted in the script and written in ZADDs of up to 500 members
    const rule = { name: "client", key: "flood", limit: 1_200, windowSeconds: 30 }
    const decisions = await checkAtOnce(rule, 1_500)
    const allowed = decisions.filter((d) => d.allowed)
    expect(allowed).toHaveLength(1_200)
    // each admitted request saw one fewer left than the one before it
    expect(allowed.map((d) => d.remaining).sort((x, y) => y - x)).toEqual(
      Array.from({ length: 1_200 }, (_, i) => 1_199 - i)
    )
    const refused = decisions.filter((d) => !d.allowed)
    expect(refused.every((d) => d.retryAfterSeconds > 0 && d.retryAfterSeconds <= 30)).toBe(true)
    const r = new IORedis("redis://127.0.0.1:6379")
    try {
      expect(await r.zcard(`${prefix}ratelimit:client:flood`)).toBe(1_200)
      const ttl = await r.pttl(`${prefix}ratelimit:client:flood`)
      expect(ttl).toBeGreaterThan(25_000)
    } finally {
      await r.quit()
    }
  })

  it("checkAndRead: a turn's concurrent requests share one script run, each with its own decision and reads", async () => {
    const r = new IORedis("redis://127.0.0.1:6379")
    await r.set(`${prefix}gen:a`, "7")
    await r.quit()
    const rule = { name: "ip", key: "batch", limit: 10, windowSeconds: 30 }
    const out = await run(
      Effect.flatMap(RateLimiter, (l) =>
        Effect.promise(() =>
          Promise.all(Array.from({ length: 25 }, (_, i) => l.checkAndRead([rule], ["gen:a", `gen:none${i}`])))
        )
      )
    )
    expect(out.filter((o) => o.decision.allowed)).toHaveLength(10)
    const refused = out.filter((o) => !o.decision.allowed)
    expect(
      refused.every((o) => Option.getOrNull(o.decision.limitedBy) === "ip" && o.decision.retryAfterSeconds >= 1)
    ).toBe(true)
    // reads come back for refused requests too, in order, null for absent keys
    expect(out.every((o) => o.values.length === 2 && o.values[0] === "7" && o.values[1] === null)).toBe(true)
    // the shared key was trimmed and given its expiry once for the whole batch: it still expires
    const probe = new IORedis("redis://127.0.0.1:6379")
    const ttl = await probe.pttl(`${prefix}ratelimit:ip:batch`)
    await probe.quit()
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
    // reads only, no rules
    const plain = await run(Effect.flatMap(RateLimiter, (l) => Effect.promise(() => l.checkAndRead([], ["gen:a"]))))
    expect(plain.values).toEqual(["7"])
    expect(plain.decision.allowed).toBe(true)
  })
})
