import { Effect } from "effect"
import { requirePrincipal } from "../../shared/auth/Authenticate.js"
import { Forbidden, type Principal, type Tokens, type Unauthorized } from "../../shared/auth/Tokens.js"
import type { Redis } from "../../shared/layers/Redis.js"
import type { UserRole } from "./Repo.js"

/** Verify the JWT and that its session is live: the one implementation in shared/auth/Authenticate.ts. */
export const authenticate = (
  authorizationHeader: string | undefined
): Effect.Effect<Principal, Unauthorized, Tokens | Redis> =>
  requirePrincipal(authorizationHeader).pipe(Effect.withSpan("Identity.authenticate"))

export const requireRole = (
  principal: Principal,
  roles: ReadonlyArray<UserRole>,
  what: string
): Effect.Effect<Principal, Forbidden> =>
  roles.some((r) => r === principal.role)
    ? Effect.succeed(principal)
    : Effect.fail(new Forbidden({ message: `${what} needs the role ${roles.join(" or ")}` }))
