import { createSecretKey, type KeyObject } from "node:crypto"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as jose from "jose"
import { AppConfig } from "../config/AppConfig.js"
import { Lru } from "../Lru.js"
import { callersOf, isServiceName, type ServiceName } from "../ServiceCatalog.js"

/**
 * Service identity (docs/security.md, finding 4): a call from one service to another carries a short-lived
 * JWT in `x-service-token` — HS256 with SERVICE_TOKEN_KEY, `sub` the calling service, `aud` the callee,
 * 60 s. The callee admits only the callers the catalog declares for it (`callersOf`). A person's bearer token,
 * where a call carries one, travels apart in `Authorization` and is checked as before.
 *
 * Hot path: a caller signs one token per callee and reuses it until 15 s before it expires; a callee verifies a
 * token string once and remembers the result until the token's own expiry.
 */
export const ServiceTokenHeader = "x-service-token"
export const SERVICE_TOKEN_TTL_SECONDS = 60
/** a cached token is replaced this long before it expires, so it never arrives expired at the callee */
const REFRESH_BEFORE_SECONDS = 15
/** clocks of two pods may differ by this much */
const CLOCK_TOLERANCE_SECONDS = 5
const ISSUER = "brandme-services"
const VERIFIED_CACHE_SIZE = 1024

/** Why a request's service token is refused: 401 (none, invalid, expired) or 403 (a valid token, not for here). */
export interface ServiceTokenRefusal {
  readonly status: 401 | 403
  readonly error: "Unauthorized" | "Forbidden"
  readonly message: string
}

const unauthorized = (message: string): ServiceTokenRefusal => ({ status: 401, error: "Unauthorized", message })
const forbidden = (message: string): ServiceTokenRefusal => ({ status: 403, error: "Forbidden", message })

export interface ServiceTokenService {
  /** a token naming `caller` to `callee`, reused while it has more than 15 s to live */
  readonly mint: (caller: ServiceName, callee: ServiceName) => Effect.Effect<string>
  /** the calling service, when the token is valid, for `callee`, and from one of its declared callers */
  readonly verify: (token: string | undefined, callee: ServiceName) => Effect.Effect<ServiceName, ServiceTokenRefusal>
}

export class ServiceTokens extends Context.Tag("brandme/ServiceTokens")<ServiceTokens, ServiceTokenService>() {}

/** Signs one token (tests sign expired or foreign ones with it; services use `mint`). */
export const signServiceToken = (
  key: string | KeyObject,
  claims: { readonly caller: string; readonly callee: string; readonly issuedAt: number; readonly ttlSeconds: number }
): Promise<string> =>
  new jose.SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setSubject(claims.caller)
    .setAudience(claims.callee)
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.issuedAt + claims.ttlSeconds)
    .sign(typeof key === "string" ? createSecretKey(Buffer.from(key, "utf8")) : key)

const reasonOf = (e: unknown): string => {
  if (e instanceof jose.errors.JWTExpired) return "the service token has expired"
  if (e instanceof jose.errors.JWSSignatureVerificationFailed) return "the service token's signature is invalid"
  if (e instanceof jose.errors.JWTClaimValidationFailed) return `the service token's "${e.claim}" claim is invalid`
  if (e instanceof jose.errors.JOSEAlgNotAllowed) return "the service token's algorithm is not allowed (HS256 only)"
  return "the service token is malformed"
}

interface Verified {
  readonly caller: ServiceName
  readonly audience: string
  /** seconds since the epoch */
  readonly expiresAt: number
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** Whom a verified token admits at `callee`. */
const admit = (v: Verified, callee: ServiceName): Effect.Effect<ServiceName, ServiceTokenRefusal> => {
  if (v.expiresAt + CLOCK_TOLERANCE_SECONDS <= nowSeconds()) {
    return Effect.fail(unauthorized("the service token has expired"))
  }
  if (v.audience !== callee) {
    return Effect.fail(forbidden(`the service token is for ${v.audience}, not ${callee}`))
  }
  const callers = callersOf(callee)
  if (!callers.includes(v.caller)) {
    return Effect.fail(
      forbidden(
        `${v.caller} is not a caller of ${callee}` +
          (callers.length === 0 ? " (it has none)" : ` (its callers: ${callers.join(", ")})`)
      )
    )
  }
  return Effect.succeed(v.caller)
}

export const makeServiceTokens = (secret: string): ServiceTokenService => {
  const key = createSecretKey(Buffer.from(secret, "utf8"))
  const minted = new Map<string, { readonly token: string; readonly expiresAt: number }>()
  const verified = new Lru<string, Verified>(VERIFIED_CACHE_SIZE, SERVICE_TOKEN_TTL_SECONDS * 1000)

  const mint = (caller: ServiceName, callee: ServiceName): Effect.Effect<string> =>
    Effect.suspend(() => {
      const slot = `${caller}>${callee}`
      const now = nowSeconds()
      const cached = minted.get(slot)
      if (cached !== undefined && cached.expiresAt - now > REFRESH_BEFORE_SECONDS) return Effect.succeed(cached.token)
      return Effect.promise(() =>
        signServiceToken(key, { caller, callee, issuedAt: now, ttlSeconds: SERVICE_TOKEN_TTL_SECONDS })
      ).pipe(
        Effect.tap((token) =>
          Effect.sync(() => minted.set(slot, { token, expiresAt: now + SERVICE_TOKEN_TTL_SECONDS }))
        )
      )
    })

  const check = (token: string): Effect.Effect<Verified, ServiceTokenRefusal> =>
    Effect.tryPromise({
      try: () =>
        jose.jwtVerify(token, key, {
          issuer: ISSUER,
          algorithms: ["HS256"],
          requiredClaims: ["exp", "iat", "sub", "aud"],
          clockTolerance: CLOCK_TOLERANCE_SECONDS
        }),
      catch: (e) => unauthorized(reasonOf(e))
    }).pipe(
      Effect.flatMap(({ payload }) => {
        const { sub, aud, exp, iat } = payload
        if (sub === undefined || !isServiceName(sub)) {
          return Effect.fail(unauthorized("the service token names no Brand.Me service"))
        }
        if (typeof aud !== "string") return Effect.fail(unauthorized("the service token must name one audience"))
        // a token is short-lived by construction: one signed for longer is refused, whoever signed it
        if (exp === undefined || iat === undefined || exp - iat > SERVICE_TOKEN_TTL_SECONDS) {
          return Effect.fail(unauthorized(`the service token must live at most ${SERVICE_TOKEN_TTL_SECONDS} s`))
        }
        const v: Verified = { caller: sub, audience: aud, expiresAt: exp }
        verified.set(token, v, Math.max(0, (exp - nowSeconds()) * 1000))
        return Effect.succeed(v)
      })
    )

  const verify = (token: string | undefined, callee: ServiceName): Effect.Effect<ServiceName, ServiceTokenRefusal> => {
    if (token === undefined || token === "") {
      return Effect.fail(
        unauthorized(
          `this port answers Brand.Me services only: send a service token in the ${ServiceTokenHeader} header`
        )
      )
    }
    const known = verified.get(token)
    return known === undefined ? Effect.flatMap(check(token), (v) => admit(v, callee)) : admit(known, callee)
  }

  return { mint, verify }
}

export const ServiceTokensLive = Layer.effect(
  ServiceTokens,
  Effect.map(AppConfig, (c) => makeServiceTokens(Redacted.value(c.auth.serviceTokenKey)))
)

/** An HTTP client whose every request carries `caller`'s service token for `callee`. */
export const withServiceToken =
  (tokens: ServiceTokenService, caller: ServiceName, callee: ServiceName) =>
  (client: HttpClient.HttpClient): HttpClient.HttpClient =>
    HttpClient.mapRequestEffect(client, (req) =>
      Effect.map(tokens.mint(caller, callee), (token) => HttpClientRequest.setHeader(req, ServiceTokenHeader, token))
    )
