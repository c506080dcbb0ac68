import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Either, Layer, Option } from "effect"
import { verifyBearer } from "../../shared/auth/Authenticate.js"
import { type Principal, Tokens, Unauthorized } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { errorResponse } from "../../shared/http/Errors.js"
import { HttpRequestGuard } from "../../shared/http/Server.js"
import { Lru } from "../../shared/Lru.js"
import { Identity } from "../identity/Port.js"
import {
  clientIp,
  publicRules,
  type RateLimitRule,
  RateLimiter,
  RateLimiterLive,
  rateLimitedResponse
} from "../../shared/http/RateLimit.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"

/** probes come from the cluster, not from the public: never limited (scrapes go to the metrics port) */
const operational = (path: string) => path === "/healthz" || path.startsWith("/health")

/** how long a verified device key is believed before it is looked up again (revocation takes effect within this) */
export const DEVICE_KEY_CACHE_MS = 10_000
/** device keys are for scanners: the one route they are accepted on */
const DEVICE_KEY_SCOPE = "/v1/scans"

/** the rate-limit client a signed-in user is counted as */
const userClient = (user: Principal) => `user:${user.userId}`

/**
 * Rate limits of the public host (every route the gateway serves): per IP, and per client for each
 * credential the request carries: a Bearer token that verifies → `user:<id>`; an `X-Api-Key` → the
 * device it belongs to, `key:<device key prefix>`, once the key is verified (hashed lookup in identity,
 * revoked keys refused). A key that does not verify is a 401, never a fresh bucket; a token and a key
 * together are charged to both. Limits and per-subject overrides come from config (RATE_LIMIT_PER_IP,
 * RATE_LIMIT_PER_CLIENT, RATE_LIMIT_OVERRIDES). A Redis outage lets requests through (fail open)
 * rather than stop scans.
 */
export class PublicLimits extends Effect.Service<PublicLimits>()("brandme/gateway/PublicLimits", {
  dependencies: [RateLimiterLive],
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const limiter = yield* RateLimiter
    const tokens = yield* Tokens
    const identity = yield* Identity
    const metrics = yield* Effect.serviceOption(Metrics)
    const settings = config.rateLimits
    const devices = new Lru<string, string>(10_000, DEVICE_KEY_CACHE_MS)

    /** the device an API key belongs to (cached briefly), or a 401 naming why it does not verify */
    const deviceOf = (apiKey: string): Effect.Effect<string, Unauthorized> => {
      const hit = devices.get(apiKey)
      if (hit !== undefined) return Effect.succeed(hit)
      return identity.authenticateDevice(apiKey).pipe(
        Effect.map((d) => {
          const client = `key:${d.keyPrefix}`
          devices.set(apiKey, client)
          return client
        })
      )
    }

    /** the user a Bearer token names; an unverifiable token names none (the request fails 401 later) */
    const userOf = (authorization: string | undefined) =>
      // the same header parsing and verifier as authentication: a header it refuses names no client either
      verifyBearer(authorization).pipe(
        Effect.map(Option.getOrUndefined),
        Effect.provideService(Tokens, tokens),
        Effect.orElseSucceed(() => undefined)
      )

    /** every client the request names: its user, its device (a key that does not verify fails 401) */
    const clientsOf = (user: Principal | undefined, apiKey: string | undefined, path: string) =>
      Effect.gen(function* () {
        const clients: Array<string> = []
        if (apiKey !== undefined) {
          if (path !== DEVICE_KEY_SCOPE) {
            return yield* new Unauthorized({
              message: `device keys (X-Api-Key) are accepted on ${DEVICE_KEY_SCOPE} only`
            })
          }
          clients.push(yield* deviceOf(apiKey))
        }
        if (user !== undefined) clients.push(userClient(user))
        return clients
      })

    /** anonymous callers (no token, no key): the rules without any lookup, checked by the scan itself */
    const anonymousRules = (ip: string): ReadonlyArray<RateLimitRule> => publicRules(settings, ip, [])
    /**
     * a caller without a device key whose token was verified already (`user`: its principal, undefined when
     * it does not verify): the rules `admit` would check, without a lookup, for the scan to check itself
     */
    const userRules = (ip: string, user: Principal | undefined): ReadonlyArray<RateLimitRule> =>
      publicRules(settings, ip, user === undefined ? [] : [userClient(user)])

    /**
     * Admits a request whose token was verified already (`user`: its principal, undefined without one or
     * with one that does not verify) or fails with RateLimited (counted in brandme_rate_limited_total) or
     * Unauthorized (a device key that does not verify).
     */
    const admit = (ip: string, user: Principal | undefined, apiKey: string | undefined, path: string) =>
      Effect.flatMap(Effect.either(clientsOf(user, apiKey, path)), (clients) => {
        // a key that does not verify is still charged to the address: guessing keys is no way around the limit
        const rules = publicRules(
          settings,
          ip,
          Either.getOrElse(clients, () => [])
        )
        const limited = limiter.enforce(rules, { failOpen: true })
        // enforce counts a refusal on the Metrics in its context: the gateway's own registry
        const admitted = Option.isSome(metrics) ? Effect.provideService(limited, Metrics, metrics.value) : limited
        return Either.isLeft(clients) ? Effect.zipRight(admitted, Effect.fail(clients.left)) : admitted
      })

    /** `admit` for a request as it came: its Authorization header verified here */
    const enforce = (ip: string, authorization: string | undefined, apiKey: string | undefined, path: string) =>
      Effect.flatMap(userOf(authorization), (user) => admit(ip, user, apiKey, path))

    const trustedHops = config.http.trustedProxyHops

    return { anonymousRules, userRules, admit, enforce, trustedHops }
  })
}) {}

/** The router's guard on the gateway: every routed public request passes the limits first. */
export const PublicLimitsGuardLive = Layer.effect(
  HttpRequestGuard,
  Effect.map(PublicLimits, (limits) => (req: HttpServerRequest.HttpServerRequest, path: string) => {
    if (operational(path)) return Effect.succeedNone
    const apiKey = req.headers["x-api-key"]
    return limits.enforce(clientIp(req, limits.trustedHops), req.headers.authorization, apiKey, path).pipe(
      Effect.as(Option.none()),
      Effect.catchTags({
        RateLimited: (e) => Effect.succeed(Option.some(rateLimitedResponse(e))),
        Unauthorized: (e) =>
          Effect.succeed(Option.some(errorResponse(401, { error: "Unauthorized", message: e.message })))
      })
    )
  })
)
