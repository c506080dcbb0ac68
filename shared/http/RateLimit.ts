import { createHash, randomBytes } from "node:crypto"
import { HttpApiSchema, type HttpServerRequest, HttpServerRespondable, HttpServerResponse } from "@effect/platform"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { DependencyError, describeCause } from "../layers/Errors.js"
import { Redis } from "../layers/Redis.js"
import { Metrics } from "../telemetry/Metrics.js"

/**
 * Sliding-window rate limits in Redis. Each rule is a sorted set of the admitted requests' times
 * (a sliding log: exact, no fixed-window bursts at the boundary). One Lua script checks every rule
 * of a request and admits it into all of them or none, atomically, using the Redis server's clock
 * so replicas with skewed clocks agree. Refused requests are not recorded, so a client that keeps
 * hammering is let in again as soon as its oldest admitted request leaves the window.
 */
export interface RateLimitRule {
  /** what the rule limits, used as the metric label and in the error: "ip", "client", "login", ... */
  readonly name: string
  /** the identity limited, e.g. `ip:203.0.113.7` — never put raw personal data here (hash it) */
  readonly key: string
  readonly limit: number
  readonly windowSeconds: number
}

export interface RateLimitDecision {
  readonly allowed: boolean
  /** requests left in the tightest window after this one (0 when refused) */
  readonly remaining: number
  /** 0 when allowed; else whole seconds until the refusing window admits a request again (≥ 1) */
  readonly retryAfterSeconds: number
  /** the rule that refused the request */
  readonly limitedBy: Option.Option<string>
}

export class RateLimited extends Schema.TaggedError<RateLimited>()(
  "RateLimited",
  { message: Schema.String, limit: Schema.String, retryAfterSeconds: Schema.Number },
  HttpApiSchema.annotations({ status: 429 })
) {
  /** outside HttpApi (plain routers) the error answers for itself, Retry-After included */
  [HttpServerRespondable.symbol]() {
    return Effect.succeed(rateLimitedResponse(this))
  }
}

/** The 429 answer with its `Retry-After` header (the platform's JSON error shape). */
export const rateLimitedResponse = (e: RateLimited): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(
    {
      error: "RateLimited",
      message: e.message,
      details: { limit: e.limit, retryAfterSeconds: e.retryAfterSeconds }
    },
    { status: 429, headers: { "retry-after": String(e.retryAfterSeconds) } }
  )

/**
 * HttpApi encodes declared errors from their schema, which cannot set headers; a handler wraps its
 * effect in this to answer a `RateLimited` with the full 429 response (Retry-After) instead.
 */
export const respondRateLimited = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    self,
    (e): e is Extract<E, RateLimited> => e instanceof RateLimited,
    (e) => Effect.succeed(rateLimitedResponse(e))
  )

export interface RateLimiterService {
  readonly check: (rules: ReadonlyArray<RateLimitRule>) => Effect.Effect<RateLimitDecision, DependencyError>
  /**
   * Admits the request or fails with `RateLimited`. When Redis is unreachable the request is let
   * through if `failOpen` (availability first: scans) and refused with a defect otherwise.
   */
  readonly enforce: (
    rules: ReadonlyArray<RateLimitRule>,
    options?: { readonly failOpen?: boolean }
  ) => Effect.Effect<RateLimitDecision, RateLimited>
}

export class RateLimiter extends Context.Tag("brandme/RateLimiter")<RateLimiter, RateLimiterService>() {}

export const SLIDING_WINDOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local remaining = -1
local retry = 0
local denied = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i * 2])
  local window = tonumber(ARGV[i * 2 + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    if denied == 0 then denied = i end
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local wait = tonumber(oldest[2]) + window - now
    if wait > retry then retry = wait end
  else
    local left = limit - count - 1
    if remaining < 0 or left < remaining then remaining = left end
  end
end
if denied > 0 then return {0, 0, retry, denied} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[i * 2 + 1]))
end
return {1, remaining, 0, 0}
`
const SCRIPT_SHA = createHash("sha1").update(SLIDING_WINDOW_LUA).digest("hex")

const Reply = Schema.Tuple(Schema.Number, Schema.Number, Schema.Number, Schema.Number)
const decodeReply = Schema.decodeUnknown(Reply)

const toDecision = (
  rules: ReadonlyArray<RateLimitRule>,
  [allowed, remaining, retryMs, deniedIndex]: readonly [number, number, number, number]
): RateLimitDecision => ({
  allowed: allowed === 1,
  remaining: Math.max(0, remaining),
  retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs / 1000)),
  limitedBy: deniedIndex > 0 ? Option.fromNullable(rules[deniedIndex - 1]?.name) : Option.none()
})

const nothingToLimit: RateLimitDecision = {
  allowed: true,
  remaining: Number.MAX_SAFE_INTEGER,
  retryAfterSeconds: 0,
  limitedBy: Option.none()
}

const enforceWith =
  (check: RateLimiterService["check"]): RateLimiterService["enforce"] =>
  (rules, options) =>
    check(rules).pipe(
      Effect.catchAll((e) =>
        options?.failOpen === true
          ? Effect.as(Effect.logWarning("rate limiter unavailable, request let through", e.message), nothingToLimit)
          : Effect.die(e)
      ),
      Effect.flatMap((d) =>
        d.allowed
          ? Effect.succeed(d)
          : Effect.gen(function* () {
              const limit = Option.getOrElse(d.limitedBy, () => "unknown")
              const metrics = yield* Effect.serviceOption(Metrics)
              if (Option.isSome(metrics)) {
                metrics.value.m.rateLimitedTotal.inc({ service: metrics.value.service, limit })
              }
              return yield* new RateLimited({
                message: `too many requests (${limit} limit): retry in ${d.retryAfterSeconds}s`,
                limit,
                retryAfterSeconds: d.retryAfterSeconds
              })
            })
      ),
      Effect.withSpan("RateLimiter.enforce")
    )

/** The live limiter on the Redis cache connection (keys under the Redis layer's prefix). */
export const RateLimiterLive = Layer.effect(
  RateLimiter,
  Effect.gen(function* () {
    const redis = yield* Redis
    const check: RateLimiterService["check"] = (rules) =>
      Effect.gen(function* () {
        if (rules.length === 0) return nothingToLimit
        const client = yield* Effect.orDie(redis.cache)
        const keys = rules.map((r) => redis.key(`ratelimit:${r.name}:${r.key}`))
        const args = [
          randomBytes(9).toString("base64url"),
          ...rules.flatMap((r) => [String(r.limit), String(r.windowSeconds * 1000)])
        ]
        const raw = yield* Effect.tryPromise({
          try: () =>
            client.evalsha(SCRIPT_SHA, keys.length, ...keys, ...args).catch((e: unknown) => {
              // first use on this server (or after SCRIPT FLUSH): send the script itself once
              if (e instanceof Error && e.message.startsWith("NOSCRIPT")) {
                return client.eval(SLIDING_WINDOW_LUA, keys.length, ...keys, ...args)
              }
              throw e
            }),
          catch: (cause) =>
            new DependencyError({ dependency: "redis", operation: "rateLimit", message: describeCause(cause) })
        })
        const reply = yield* decodeReply(raw).pipe(
          Effect.mapError(
            (e) => new DependencyError({ dependency: "redis", operation: "rateLimit", message: e.message })
          )
        )
        return toDecision(rules, reply)
      })
    return { check, enforce: enforceWith(check) }
  })
)

/** Unit tests: the same sliding log in memory, on the wall clock. */
export const makeRateLimiterTest = () => {
  const logs = new Map<string, Array<number>>()
  const check: RateLimiterService["check"] = (rules) =>
    Effect.sync(() => {
      const now = Date.now()
      let remaining = -1
      let retry = 0
      let denied = 0
      rules.forEach((r, i) => {
        const k = `${r.name}:${r.key}`
        const log = (logs.get(k) ?? []).filter((t) => t > now - r.windowSeconds * 1000)
        logs.set(k, log)
        if (log.length >= r.limit) {
          if (denied === 0) denied = i + 1
          const oldest = log[log.length - r.limit] ?? now
          retry = Math.max(retry, oldest + r.windowSeconds * 1000 - now)
        } else {
          const left = r.limit - log.length - 1
          if (remaining < 0 || left < remaining) remaining = left
        }
      })
      if (denied > 0) return toDecision(rules, [0, 0, retry, denied])
      for (const r of rules) logs.get(`${r.name}:${r.key}`)?.push(now)
      return rules.length === 0 ? nothingToLimit : toDecision(rules, [1, remaining, 0, 0])
    })
  return { layer: Layer.succeed(RateLimiter, { check, enforce: enforceWith(check) }), logs }
}

/**
 * The caller's address. Behind the ingress the last `X-Forwarded-For` hop is the address our own
 * proxy saw (earlier hops are client-supplied and untrusted); without the header, the socket peer.
 */
export const clientIp = (req: HttpServerRequest.HttpServerRequest): string => {
  const forwarded = req.headers["x-forwarded-for"]
  if (forwarded !== undefined && forwarded !== "") {
    const hops = forwarded
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h !== "")
    const last = hops[hops.length - 1]
    if (last !== undefined) return last
  }
  return Option.getOrElse(req.remoteAddress, () => "unknown")
}

/** Default limits of the public scan route: per client (user, device or API-key prefix) and per IP. */
export interface ScanLimitSettings {
  readonly perClient: { readonly limit: number; readonly windowSeconds: number }
  readonly perIp: { readonly limit: number; readonly windowSeconds: number }
}
export const ScanLimits: ScanLimitSettings = {
  perClient: { limit: 120, windowSeconds: 60 },
  perIp: { limit: 300, windowSeconds: 60 }
}

/**
 * For the gateway's `POST /v1/scans`: enforce the per-client and per-IP limits (fail open: a Redis
 * outage must not stop scans). `clientId` is e.g. `user:<id>`, `device:<id>` or `key:<prefix>`;
 * anonymous scanners are limited by IP only.
 */
export const enforceScanLimits = (o: {
  readonly clientId: Option.Option<string>
  readonly ip: string
  readonly limits?: ScanLimitSettings
}) =>
  Effect.flatMap(RateLimiter, (limiter) => {
    const limits = o.limits ?? ScanLimits
    const rules: Array<RateLimitRule> = [{ name: "ip", key: `scan:${o.ip}`, ...limits.perIp }]
    if (Option.isSome(o.clientId))
      rules.unshift({ name: "client", key: `scan:${o.clientId.value}`, ...limits.perClient })
    return limiter.enforce(rules, { failOpen: true })
  })
