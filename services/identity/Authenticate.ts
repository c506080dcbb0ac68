import { HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { bearerToken, Forbidden, type Principal, sessionKey, Tokens, Unauthorized } from "../../shared/auth/Tokens.js"
import { Redis } from "../../shared/layers/Redis.js"
import type { UserRole } from "./Repo.js"

/**
 * Authentication any service can use: verify the JWT (signature, issuer, audience, expiry, claims)
 * and that its session is still live in Redis — sign-out and erasure delete the session key, so a
 * revoked token stops working at once everywhere. Redis unreachable → a defect (500), never a pass.
 */
export const authenticate = (
  authorizationHeader: string | undefined
): Effect.Effect<Principal, Unauthorized, Tokens | Redis> =>
  Effect.gen(function* () {
    const token = yield* bearerToken(authorizationHeader)
    if (Option.isNone(token)) {
      return yield* new Unauthorized({ message: "missing Authorization: Bearer <token> header" })
    }
    const tokens = yield* Tokens
    const principal = yield* tokens.verify(token.value)
    const redis = yield* Redis
    const live = yield* Effect.orDie(redis.get(sessionKey(principal.sessionId)))
    if (live !== principal.userId) {
      return yield* new Unauthorized({ message: "session has ended (signed out, expired or revoked)" })
    }
    return principal
  }).pipe(Effect.withSpan("Identity.authenticate"))

/** The caller of the current HTTP request; fails with 401 when there is none. */
export const currentPrincipal = Effect.flatMap(HttpServerRequest.HttpServerRequest, (req) =>
  authenticate(req.headers.authorization)
)

/** The caller if the request carries credentials (a bad token is still a 401, never anonymous). */
export const optionalPrincipal = Effect.flatMap(HttpServerRequest.HttpServerRequest, (req) => {
  const header = req.headers.authorization
  return header === undefined || header === "" ? Effect.succeedNone : Effect.asSome(authenticate(header))
})

export const requireRole = (
  principal: Principal,
  roles: ReadonlyArray<UserRole>,
  what: string
): Effect.Effect<Principal, Forbidden> =>
  roles.some((r) => r === principal.role)
    ? Effect.succeed(principal)
    : Effect.fail(new Forbidden({ message: `${what} needs the role ${roles.join(" or ")}` }))
