import { createHash } from "node:crypto"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Layer, Option } from "effect"
import { verifyToken } from "../../shared/auth/Authenticate.js"
import { bearerToken, Tokens } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { HttpRequestGuard } from "../../shared/http/Server.js"
import {
  clientIp,
  publicRules,
  type RateLimitDecision,
  type RateLimitRule,
  RateLimiter,
  RateLimiterLive,
  rateLimitedResponse,
  refusalOf
} from "../../shared/http/RateLimit.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"

/** probes and scrapes come from the cluster, not from the public: never limited */
const operational = (path: string) => path === "/metrics" || path === "/healthz" || path.startsWith("/health")

/**
 * Rate limits of the public host (every route the gateway serves): per IP, and per client when the
 * request names one: a Bearer token that verifies → `user:<id>`; an `X-Api-Key` → `key:<first 24 hex
 * of its SHA-256>` (the bucket of the key itself, so nobody without the key can drain it). Limits and
 * per-subject overrides come from config (RATE_LIMIT_PER_IP, RATE_LIMIT_PER_CLIENT,
 * RATE_LIMIT_OVERRIDES). A Redis outage lets requests through (fail open) rather than stop scans.
 */
export class PublicLimits extends Effect.Service<PublicLimits>()("brandme/gateway/PublicLimits", {
  dependencies: [RateLimiterLive],
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const limiter = yield* RateLimiter
    const tokens = yield* Tokens
    const metrics = yield* Effect.serviceOption(Metrics)
    const settings = config.rateLimits

    /** the client a request names; an unverifiable token names none (the request fails 401 later) */
    const clientOf = (authorization: string | undefined, apiKey: string | undefined) => {
      if (apiKey !== undefined && apiKey !== "") {
        return Effect.succeed(`key:${createHash("sha256").update(apiKey).digest("hex").slice(0, 24)}`)
      }
      // the same header parsing as authentication: a header it refuses names no client either
      return bearerToken(authorization).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeed(undefined),
            onSome: (token) => Effect.map(verifyToken(token), (p): string | undefined => `user:${p.userId}`)
          })
        ),
        Effect.provideService(Tokens, tokens),
        Effect.orElseSucceed(() => undefined)
      )
    }

    /** anonymous callers (no token, no key): the rules without any lookup, for the warm lane */
    const anonymousRules = (ip: string): ReadonlyArray<RateLimitRule> => publicRules(settings, ip, undefined)

    const rulesFor = (ip: string, authorization: string | undefined, apiKey: string | undefined) =>
      Effect.map(clientOf(authorization, apiKey), (client) => publicRules(settings, ip, client))

    /** admits the request or fails with RateLimited (counted in brandme_rate_limited_total) */
    const enforce = (ip: string, authorization: string | undefined, apiKey: string | undefined) =>
      Effect.flatMap(rulesFor(ip, authorization, apiKey), (rules) => {
        const admitted = limiter.enforce(rules, { failOpen: true })
        // enforce counts a refusal on the Metrics in its context: the gateway's own registry
        return Option.isSome(metrics) ? Effect.provideService(admitted, Metrics, metrics.value) : admitted
      })

    /** for the warm lane's own refusals (outside enforce) */
    const refused = (d: RateLimitDecision) => {
      const e = refusalOf(d)
      Option.map(metrics, ({ m, service }) => m.rateLimitedTotal.inc({ service, limit: e.limit }))
      return e
    }

    const trustedHops = config.http.trustedProxyHops

    return { anonymousRules, rulesFor, enforce, refused, trustedHops }
  })
}) {}

/** The router's guard on the gateway: every routed public request passes the limits first. */
export const PublicLimitsGuardLive = Layer.effect(
  HttpRequestGuard,
  Effect.map(PublicLimits, (limits) => (req: HttpServerRequest.HttpServerRequest, path: string) => {
    if (operational(path)) return Effect.succeedNone
    const apiKey = req.headers["x-api-key"]
    return limits.enforce(clientIp(req, limits.trustedHops), req.headers.authorization, apiKey).pipe(
      Effect.as(Option.none()),
      Effect.catchTag("RateLimited", (e) => Effect.succeed(Option.some(rateLimitedResponse(e))))
    )
  })
)
