import { createHash, randomBytes } from "node:crypto"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerRespondable from "@effect/platform/HttpServerRespondable"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Context, Effect, Layer, Option, Schema } from "effect"
import type { Redis as IORedis } from "ioredis"
import { DependencyError, describeCause } from "../layers/Errors.js"
import { luaScript, runScript } from "../layers/LuaScript.js"
import { Redis } from "../layers/Systems.js"
import { makeTurnBatcher } from "../TurnBatcher.js"
import { Metrics } from "../telemetry/Metrics.js"
import { clientHopOf, type HopRequest, trustedClientHop } from "./ClientHop.js"

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
  HttpApiSchema.annotations({
    status: 429,
    description: "too many requests: the Retry-After header (and details.retryAfterSeconds) gives the seconds to wait"
  })
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
  /**
   * For the hot path, without a fiber: check the rules (admitting the request into all of them or none)
   * and read `reads` (cache keys, unprefixed) in the same round trip, batched with every other request
   * of this event-loop turn. Rejects when Redis fails; the caller decides whether to fail open.
   */
  readonly checkAndRead: (rules: ReadonlyArray<RateLimitRule>, reads: ReadonlyArray<string>) => Promise<LimitedRead>
}

export class RateLimiter extends Context.Tag("brandme/RateLimiter")<RateLimiter, RateLimiterService>() {}

/**
 * The sliding log for a batch of requests in one script call: the hot path sends every request of an
 * event-loop turn together (one round trip for all of them), each with its rules and the cache keys it
 * must read in the same trip. ARGV: request count, then per request: rule count, read count, member,
 * and (limit, window ms) per rule. KEYS: per request its rule keys, then its read keys. The reply is
 * flat, per request: allowed, remaining, retry ms, refusing rule (1-based, 0 = none), then the reads.
 */
export const SLIDING_WINDOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
-- each key the batch touches (several requests share one busy address's) is trimmed and counted once, then counted
-- here as the batch admits requests; its admissions go in one ZADD and its expiry is set once, at the end
local count = {}
local pending = {}
local expire = {}
local function flush(key)
  local p = pending[key]
  for s = 1, #p, 1000 do
    redis.call('ZADD', key, unpack(p, s, math.min(s + 999, #p)))
  end
  pending[key] = {}
end
local k = 1
local a = 2
for r = 1, tonumber(ARGV[1]) do
  local nrules = tonumber(ARGV[a])
  local nreads = tonumber(ARGV[a + 1])
  local member = ARGV[a + 2]
  local remaining = -1
  local retry = 0
  local denied = 0
  for i = 0, nrules - 1 do
    local key = KEYS[k + i]
    local limit = tonumber(ARGV[a + 3 + i * 2])
    local window = tonumber(ARGV[a + 4 + i * 2])
    if count[key] == nil then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
      count[key] = redis.call('ZCARD', key)
      pending[key] = {}
    end
    local c = count[key]
    if c >= limit then
      if denied == 0 then denied = i + 1 end
      -- the oldest entry still counted, by rank: this batch's admissions first written
      flush(key)
      local oldest = redis.call('ZRANGE', key, c - limit, c - limit, 'WITHSCORES')
      local wait = tonumber(oldest[2]) + window - now
      if wait > retry then retry = wait end
    else
      local left = limit - c - 1
      if remaining < 0 or left < remaining then remaining = left end
    end
  end
  if denied > 0 then
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = retry
    out[#out + 1] = denied
  else
    for i = 0, nrules - 1 do
      local key = KEYS[k + i]
      local p = pending[key]
      p[#p + 1] = now
      p[#p + 1] = member
      count[key] = count[key] + 1
      expire[key] = tonumber(ARGV[a + 4 + i * 2])
    end
    out[#out + 1] = 1
    out[#out + 1] = remaining
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  for j = 0, nreads - 1 do
    out[#out + 1] = redis.call('GET', KEYS[k + nrules + j])
  end
  k = k + nrules + nreads
  a = a + 3 + nrules * 2
end
for key, _ in pairs(pending) do
  flush(key)
end
for key, window in pairs(expire) do
  redis.call('PEXPIRE', key, window)
end
return out
`
const SLIDING_WINDOW = luaScript(SLIDING_WINDOW_LUA)

const toDecision = (
  rules: ReadonlyArray<RateLimitRule>,
  allowed: number,
  remaining: number,
  retryMs: number,
  deniedIndex: number
): RateLimitDecision =>
  rules.length === 0
    ? nothingToLimit
    : {
        allowed: allowed === 1,
        remaining: Math.max(0, remaining),
        retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs / 1000)),
        limitedBy: deniedIndex > 0 ? Option.fromNullable(rules[deniedIndex - 1]?.name) : Option.none()
      }

const nothingToLimit: RateLimitDecision = {
  allowed: true,
  remaining: Number.MAX_SAFE_INTEGER,
  retryAfterSeconds: 0,
  limitedBy: Option.none()
}

/** The error for a refused decision (counted in `brandme_rate_limited_total` by whoever answers it). */
export const refusalOf = (d: RateLimitDecision): RateLimited => {
  const limit = Option.getOrElse(d.limitedBy, () => "unknown")
  return new RateLimited({
    message: `too many requests (${limit} limit): retry in ${d.retryAfterSeconds}s`,
    limit,
    retryAfterSeconds: d.retryAfterSeconds
  })
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
              const refusal = refusalOf(d)
              const metrics = yield* Effect.serviceOption(Metrics)
              if (Option.isSome(metrics)) {
                metrics.value.m.rateLimitedTotal.inc({ service: metrics.value.service, limit: refusal.limit })
              }
              return yield* refusal
            })
      ),
      Effect.withSpan("RateLimiter.enforce", { captureStackTrace: false })
    )

export interface LimitedRead {
  readonly decision: RateLimitDecision
  /** the values of the keys asked for, in order (null: absent) */
  readonly values: ReadonlyArray<string | null>
}

/**
 * The script's flat reply: numbers, strings (reads) and nulls (absent keys). Declared with a plain
 * guard: it is checked once per batch on the hot path, where a generic array-of-unions decode costs
 * about 1 µs per request.
 */
const Reply = Schema.declare(
  (u: unknown): u is ReadonlyArray<number | string | null> =>
    Array.isArray(u) && u.every((v) => v === null || typeof v === "number" || typeof v === "string"),
  { identifier: "RateLimitReply", description: "an array of numbers, strings and nulls" }
)
const decodeReply = Schema.decodeUnknownEither(Reply)

/**
 * Batches the checks (and reads) of one event-loop turn into one EVALSHA: the requests that arrive
 * together cost one round trip and one script run, however many there are. Each caller gets its own
 * decision and values; a Redis failure rejects every caller of that batch.
 */
export const makeLimitBatcher = (client: IORedis, prefixed: (k: string) => string) => {
  interface Pending {
    readonly rules: ReadonlyArray<RateLimitRule>
    readonly reads: ReadonlyArray<string>
    readonly resolve: (r: LimitedRead) => void
    readonly reject: (e: unknown) => void
  }
  // members only need to be unique per key: a per-process random id and a counter (no syscall per request)
  const proc = randomBytes(6).toString("base64url")
  let seq = 0
  const batcher = makeTurnBatcher<Pending>((batch) => {
    const keys: Array<string> = []
    const args: Array<string | number> = [batch.length]
    for (const p of batch) {
      args.push(p.rules.length, p.reads.length, `${proc}.${seq++}`)
      for (const r of p.rules) {
        keys.push(prefixed(`ratelimit:${r.name}:${r.key}`))
        args.push(r.limit, r.windowSeconds * 1000)
      }
      for (const k of p.reads) keys.push(prefixed(k))
    }
    runScript(client, SLIDING_WINDOW, keys, args)
      .then((raw) => {
        const reply = decodeReply(raw)
        if (reply._tag === "Left") throw new Error(`unexpected rate-limit reply: ${reply.left.message}`)
        const out = reply.right
        let at = 0
        const num = (i: number) => Number(out[i] ?? 0)
        for (const p of batch) {
          const decision = toDecision(p.rules, num(at), num(at + 1), num(at + 2), num(at + 3))
          const values = out.slice(at + 4, at + 4 + p.reads.length).map((v) => (v === null ? null : String(v)))
          at += 4 + p.reads.length
          p.resolve({ decision, values })
        }
      })
      .catch((e: unknown) => {
        for (const p of batch) p.reject(e)
      })
  })
  return (rules: ReadonlyArray<RateLimitRule>, reads: ReadonlyArray<string> = []): Promise<LimitedRead> =>
    new Promise((resolve, reject) => {
      batcher.push({ rules, reads, resolve, reject })
    })
}

/** The live limiter on the Redis cache connection (keys under the Redis layer's prefix). */
export const RateLimiterLive = Layer.effect(
  RateLimiter,
  Effect.gen(function* () {
    const redis = yield* Redis
    const client = yield* Effect.orDie(redis.cache)
    const batched = makeLimitBatcher(client, redis.key)
    const checkAndRead: RateLimiterService["checkAndRead"] = (rules, reads) =>
      rules.length === 0 && reads.length === 0
        ? Promise.resolve({ decision: nothingToLimit, values: [] })
        : batched(rules, reads)
    const check: RateLimiterService["check"] = (rules) =>
      rules.length === 0
        ? Effect.succeed(nothingToLimit)
        : Effect.tryPromise({
            try: () => batched(rules),
            catch: (cause) =>
              new DependencyError({ dependency: "redis", operation: "rateLimit", message: describeCause(cause) })
          }).pipe(Effect.map((r) => r.decision))
    return { check, enforce: enforceWith(check), checkAndRead }
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
      if (denied > 0) return toDecision(rules, 0, 0, retry, denied)
      for (const r of rules) logs.get(`${r.name}:${r.key}`)?.push(now)
      return toDecision(rules, 1, remaining, 0, 0)
    })
  const checkAndRead: RateLimiterService["checkAndRead"] = () =>
    Promise.reject(new Error("RateLimiter.checkAndRead reads Redis keys: not available in the in-memory test limiter"))
  return { layer: Layer.succeed(RateLimiter, { check, enforce: enforceWith(check), checkAndRead }), logs }
}

/** The caller's address as far as the trusted hops allow (see ClientHop.ts: the one rule). */
export const clientIpOf = (forwarded: string | undefined, remoteAddress: string | undefined, trustedHops: number) =>
  clientHopOf(forwarded, remoteAddress, trustedHops).address

export const clientIp = (req: HopRequest, trustedHops: number): string => trustedClientHop(req, trustedHops).address

export interface LimitSetting {
  readonly limit: number
  readonly windowSeconds: number
}

/** The limits of every public route (from config: RATE_LIMIT_PER_IP, RATE_LIMIT_PER_CLIENT, RATE_LIMIT_OVERRIDES). */
export interface PublicLimitSettings {
  readonly perIp: LimitSetting
  readonly perClient: LimitSetting
  /** by subject, `ip:<address>` or a client id (`user:<uuid>`, `key:<device key prefix>`): replaces that subject's limit */
  readonly overrides: Readonly<Record<string, LimitSetting>>
}

const subjectHashes = new Map<string, string>()
/** addresses are personal data: keys name a hash of them (memoised; the map is cleared when it grows large) */
const hashed = (subject: string): string => {
  let h = subjectHashes.get(subject)
  if (h === undefined) {
    if (subjectHashes.size >= 50_000) subjectHashes.clear()
    h = createHash("sha256").update(subject).digest("base64url").slice(0, 22)
    subjectHashes.set(subject, h)
  }
  return h
}

/**
 * The rules of one public request: per IP always, and per client for each client the request names (a
 * verified user, a verified device key); the client rules come first so a refusal names them. One
 * bucket per subject across all public routes.
 */
export const publicRules = (
  settings: PublicLimitSettings,
  ip: string,
  clients: ReadonlyArray<string>
): Array<RateLimitRule> => {
  const ipSubject = `ip:${ip}`
  const rules: Array<RateLimitRule> = clients.map((client) => ({
    name: "client",
    key: `public:${hashed(client)}`,
    ...(settings.overrides[client] ?? settings.perClient)
  }))
  rules.push({ name: "ip", key: `public:${hashed(ipSubject)}`, ...(settings.overrides[ipSubject] ?? settings.perIp) })
  return rules
}
