import { Effect, Either, Option } from "effect"
import { decodeJwt } from "jose"
import { bearerToken, bearerTokenOf, type Principal, sessionHolds, sessionKey, Tokens, Unauthorized } from "./Tokens.js"
import { Redis } from "../layers/Systems.js"
import { Lru } from "../Lru.js"

/**
 * Who is calling: no Authorization header → anonymous (role `public`); a Bearer JWT → its principal,
 * once the signature, expiry and claims check out AND its session is still live in Redis (a sign-out
 * deletes the key, so a revoked token fails on its very next request). Verified signatures are
 * memoised per token until a minute passes; the session check is never skipped.
 */
const verified = new Lru<string, Principal>(10_000, 60_000)

export const verifyToken = (token: string) =>
  Effect.gen(function* () {
    const hit = verified.get(token)
    if (hit !== undefined) return hit
    const tokens = yield* Tokens
    const p = yield* tokens.verify(token)
    // never memoise past the token's own expiry
    const exp = decodeJwt(token).exp
    const ttl = exp === undefined ? 0 : Math.min(60_000, exp * 1000 - Date.now())
    if (ttl > 0) verified.set(token, p, ttl)
    return p
  })

/**
 * The bearer token of an `Authorization` header, verified (signature, expiry, claims): none without a
 * header, a 401 naming what is wrong with a bad one. The session is checked by the caller: `authenticate`
 * reads it at once, the scan lane in the round trip it reads with.
 */
export const verifyBearer = (authorization: string | undefined) =>
  Effect.flatMap(
    bearerToken(authorization),
    Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (token) => Effect.asSome(verifyToken(token))
    })
  )

/**
 * `verifyBearer` answered at once, without a fiber, when it can be: no header, a malformed one, or a token
 * verified in the last minute (the same memo); undefined when the signature must be checked (run `verifyBearer`).
 */
export const verifyBearerNow = (
  authorization: string | undefined
): Either.Either<Option.Option<Principal>, Unauthorized> | undefined => {
  const token = bearerTokenOf(authorization)
  if (Either.isLeft(token) || Option.isNone(token.right))
    return token as Either.Either<Option.Option<never>, Unauthorized>
  const hit = verified.get(token.right.value)
  return hit === undefined ? undefined : Either.right(Option.some(hit))
}

export const requireLiveSession = (p: Principal) =>
  Effect.gen(function* () {
    const redis = yield* Redis
    const live = yield* Effect.orElseSucceed(redis.get(sessionKey(p.sessionId)), () => null)
    if (!sessionHolds(live, p)) return yield* new Unauthorized({ message: "session has ended: sign in again" })
    return p
  })

export const authenticate = (authorization: string | undefined) =>
  Effect.flatMap(
    verifyBearer(authorization),
    Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (p) => Effect.asSome(requireLiveSession(p))
    })
  )

/** The endpoints that need a signed-in caller. */
export const requirePrincipal = (authorization: string | undefined) =>
  Effect.flatMap(authenticate(authorization), (p) =>
    Option.match(p, {
      onNone: () => Effect.fail(new Unauthorized({ message: "missing Authorization: Bearer <token> header" })),
      onSome: Effect.succeed
    })
  )
