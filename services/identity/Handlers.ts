import type * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Option } from "effect"
import { Tokens } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { clientIp, respondRateLimited } from "../../shared/http/RateLimit.js"
import type { AuthApi, DevicesApi, DirectoryApi, InboxApi, OwnershipApi, PrivacyApi, UsersApi } from "./Api.js"
import { CurrentCaller, CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { Directory } from "./Directory.js"
import { Identity } from "./Identity.js"
import { Jurisdiction } from "./Jurisdiction.js"
import { Ownership } from "./Ownership.js"
import { Privacy } from "./Privacy.js"

/**
 * Handlers of identity's public groups, as group builders (like `healthHandlers`): identity mounts
 * them with `HttpApiBuilder.group(IdentityApi, "auth", authHandlers)` and the gateway may mount the
 * same groups on its own API. The caller comes from the auth middleware the contract declares
 * (`CurrentPrincipal`, `CurrentCaller`: shared/auth/Middleware.ts).
 */
const requestIp = Effect.gen(function* () {
  const config = yield* AppConfig
  return clientIp(yield* HttpServerRequest.HttpServerRequest, config.http.trustedProxyHops)
})

const selfRegistration = {
  status: "accepted",
  message: "registration received: sign in with this email and password to continue"
} as const

type Handlers<Group extends HttpApiGroup.HttpApiGroup.Any, E, Provides, R> = HttpApiBuilder.Handlers<
  E,
  Provides,
  R,
  HttpApiGroup.HttpApiGroup.Endpoints<Group>
>

export const authHandlers = <E, Provides, R>(h: Handlers<typeof AuthApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const identity = yield* Identity
    const tokens = yield* Tokens
    return h
      .handle("login", ({ payload }) =>
        respondRateLimited(
          Effect.flatMap(requestIp, (ip) => identity.login({ ...payload, ip })).pipe(
            Effect.map((r) => ({ ...r, tokenType: "Bearer" as const }))
          )
        )
      )
      .handle("logout", () => Effect.flatMap(CurrentPrincipal, identity.logout))
      .handle("jwks", () => tokens.jwks)
  })

export const usersHandlers = <E, Provides, R>(h: Handlers<typeof UsersApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const identity = yield* Identity
    const jurisdiction = yield* Jurisdiction
    return h
      .handle("setJurisdiction", ({ payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => jurisdiction.change(p, payload.jurisdiction))
      )
      .handle("register", ({ payload }) =>
        respondRateLimited(
          Effect.gen(function* () {
            const actor = yield* CurrentCaller
            const ip = yield* requestIp
            const registered = identity.register(
              {
                email: payload.email,
                password: payload.password,
                displayName: payload.displayName,
                role: payload.role ?? "owner",
                brandId: payload.brandId ?? null,
                regionCode: payload.regionCode ?? null,
                ip
              },
              actor
            )
            // an admin learns the id (and a 409); a stranger gets one answer whether the email was taken or not
            if (Option.isSome(actor)) return yield* registered
            return yield* registered.pipe(
              Effect.catchTag("EmailTaken", () => Effect.void),
              Effect.as(selfRegistration)
            )
          })
        )
      )
  })

export const devicesHandlers = <E, Provides, R>(h: Handlers<typeof DevicesApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const identity = yield* Identity
    return h
      .handle("create", ({ payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => identity.createDevice(p, payload.name))
      )
      .handle("revoke", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => identity.revokeDevice(p, path.id)))
  })

export const ownershipHandlers = <E, Provides, R>(h: Handlers<typeof OwnershipApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const ownership = yield* Ownership
    return h
      .handle("issueClaimCode", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => ownership.issueClaimCode(p, path.id, payload.expiresInDays))
      )
      .handle("claim", ({ payload }) => Effect.flatMap(CurrentPrincipal, (p) => ownership.claim(p, payload.code)))
      .handle("offerTransfer", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => ownership.offerTransfer(p, path.id, payload.toUserEmail))
      )
      .handle("acceptTransfer", ({ path }) =>
        Effect.flatMap(CurrentPrincipal, (p) => ownership.acceptTransfer(p, path.id))
      )
      .handle("cancelTransfer", ({ path }) =>
        Effect.flatMap(CurrentPrincipal, (p) => ownership.cancelTransfer(p, path.id))
      )
  })

export const privacyHandlers = <E, Provides, R>(h: Handlers<typeof PrivacyApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const privacy = yield* Privacy
    return h
      .handle("export", () => Effect.flatMap(CurrentPrincipal, privacy.exportData))
      .handle("erase", () => Effect.flatMap(CurrentPrincipal, privacy.erase))
  })

export const directoryHandlers = <E, Provides, R>(h: GroupHandlers<typeof DirectoryApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const directory = yield* Directory
    return h
      .handle("me", () => Effect.flatMap(CurrentPrincipal, directory.me))
      .handle("listBrands", () => Effect.flatMap(CurrentPrincipal, directory.listBrands))
      .handle("createBrand", ({ payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => directory.createBrand(p, payload))
      )
      .handle("listStaff", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => directory.listStaff(p, path.id)))
      .handle("inviteStaff", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => directory.inviteStaff(p, path.id, payload))
      )
      .handle("listUsers", ({ urlParams }) =>
        Effect.flatMap(CurrentPrincipal, (p) => directory.listUsers(p, urlParams))
      )
      .handle("setRole", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => directory.setRole(p, path.id, payload))
      )
  })

export const inboxHandlers = <E, Provides, R>(h: GroupHandlers<typeof InboxApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const directory = yield* Directory
    return h
      .handle("notifications", ({ urlParams }) =>
        Effect.flatMap(CurrentPrincipal, (p) => directory.notifications(p, urlParams))
      )
      .handle("markRead", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => directory.markRead(p, path.id)))
      .handle("transfers", () => Effect.flatMap(CurrentPrincipal, directory.transfers))
  })
