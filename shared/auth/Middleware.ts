import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as OpenApi from "@effect/platform/OpenApi"
import { Context, Effect, Layer, type Option } from "effect"
import { Redis } from "../layers/Systems.js"
import { authenticate, requirePrincipal } from "./Authenticate.js"
import { type Principal, Tokens, Unauthorized } from "./Tokens.js"

/**
 * Authentication as HttpApi middleware (the Effect way: `HttpApiSecurity` declares the scheme in the
 * contract and its OpenAPI document, `HttpApiMiddleware` provides the caller to the handlers). A contract
 * puts `.middleware(Authentication)` on the endpoints (or groups) that need a signed-in caller and
 * `.middleware(OptionalAuthentication)` on those a caller may be signed in for; handlers read
 * `CurrentPrincipal` / `CurrentCaller`. Both verify with `shared/auth/Authenticate.ts` (JWT, then the
 * live session), the verifier the scan lane uses too; the header is read as that verifier reads it, so a
 * malformed one gets the same 401.
 */

/** The signed-in caller of the request. */
export class CurrentPrincipal extends Context.Tag("brandme/auth/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

/** The caller if the request carries credentials (none: anonymous). */
export class CurrentCaller extends Context.Tag("brandme/auth/CurrentCaller")<
  CurrentCaller,
  Option.Option<Principal>
>() {}

/** `Authorization: Bearer <jwt>` of a live session; 401 without one. */
export const BearerToken = HttpApiSecurity.bearer.pipe(
  HttpApiSecurity.annotate(
    OpenApi.Description,
    "an access token from POST /v1/auth/login (a JWT; revoked by POST /v1/auth/logout)"
  )
)

export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("brandme/auth/Authentication", {
  failure: Unauthorized,
  provides: CurrentPrincipal,
  security: { bearer: BearerToken }
}) {}

/** No Authorization header: anonymous; a header that does not verify is still a 401, never anonymous. */
export class OptionalAuthentication extends HttpApiMiddleware.Tag<OptionalAuthentication>()(
  "brandme/auth/OptionalAuthentication",
  { failure: Unauthorized, provides: CurrentCaller }
) {}

const authorizationHeader = Effect.map(HttpServerRequest.HttpServerRequest, (req) => req.headers.authorization)

/** Both middlewares on the process's Tokens and Redis (the session store). */
export const AuthenticationLive = Layer.merge(
  Layer.effect(
    Authentication,
    Effect.gen(function* () {
      const tokens = yield* Tokens
      const redis = yield* Redis
      const principal = Effect.flatMap(authorizationHeader, requirePrincipal).pipe(
        Effect.provideService(Tokens, tokens),
        Effect.provideService(Redis, redis),
        Effect.withSpan("Identity.authenticate")
      )
      return Authentication.of({ bearer: () => principal })
    })
  ),
  Layer.effect(
    OptionalAuthentication,
    Effect.gen(function* () {
      const tokens = yield* Tokens
      const redis = yield* Redis
      return Effect.flatMap(authorizationHeader, (header) =>
        header === undefined || header === ""
          ? Effect.succeedNone
          : authenticate(header).pipe(
              Effect.provideService(Tokens, tokens),
              Effect.provideService(Redis, redis),
              Effect.withSpan("Identity.authenticate")
            )
      )
    })
  )
)
