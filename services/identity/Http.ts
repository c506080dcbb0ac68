import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Layer } from "effect"
import { AuthenticationLive } from "../../shared/auth/Middleware.js"
import { TokensLive } from "../../shared/auth/Tokens.js"
import type { Nats } from "../../shared/layers/Nats.js"
import type { Redis } from "../../shared/layers/Redis.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { RateLimiterLive } from "../../shared/http/RateLimit.js"
import { serveService } from "../../shared/http/Server.js"
import { IdentityApi } from "./Api.js"
import { type GarmentEvents, GarmentEventsLive } from "./GarmentEvents.js"
import { Directory } from "./Directory.js"
import {
  authHandlers,
  devicesHandlers,
  directoryHandlers,
  inboxHandlers,
  ownershipHandlers,
  privacyHandlers,
  usersHandlers
} from "./Handlers.js"
import { Identity } from "./Identity.js"
import { Jurisdiction } from "./Jurisdiction.js"
import { Ownership } from "./Ownership.js"
import { OwnershipRepoLive } from "./OwnershipRepo.js"
import { Privacy } from "./Privacy.js"
import { PrivacyRepoLive } from "./PrivacyRepo.js"
import { IdentityRepoLive } from "./Repo.js"

/**
 * Identity's logic on the process's Postgres/Redis/NATS (from InfraLive) and AppConfig; the gateway
 * can provide the same layer to mount identity's groups on its own API.
 */
export const makeIdentityServices = (
  garmentEvents: Layer.Layer<GarmentEvents, never, Nats | Redis> = GarmentEventsLive
) =>
  Layer.mergeAll(Directory.Default, Ownership.Default, Privacy.Default, Jurisdiction.Default).pipe(
    Layer.provideMerge(Identity.Default),
    Layer.provideMerge(Layer.mergeAll(IdentityRepoLive, OwnershipRepoLive, PrivacyRepoLive, garmentEvents)),
    Layer.provideMerge(Layer.mergeAll(TokensLive, RateLimiterLive))
  )

export const IdentityServicesLive = makeIdentityServices()

const identityHandlers = Layer.mergeAll(
  HttpApiBuilder.group(IdentityApi, "health", healthHandlers),
  HttpApiBuilder.group(IdentityApi, "auth", authHandlers),
  HttpApiBuilder.group(IdentityApi, "users", usersHandlers),
  HttpApiBuilder.group(IdentityApi, "devices", devicesHandlers),
  HttpApiBuilder.group(IdentityApi, "ownership", ownershipHandlers),
  HttpApiBuilder.group(IdentityApi, "privacy", privacyHandlers),
  HttpApiBuilder.group(IdentityApi, "directory", directoryHandlers),
  HttpApiBuilder.group(IdentityApi, "inbox", inboxHandlers)
)

/** Every identity group on identity's own API (tests pass their own garment-event subject). */
export const makeIdentityHttp = (garmentEvents?: Layer.Layer<GarmentEvents, never, Nats | Redis>) =>
  serveService(
    "identity",
    IdentityApi,
    identityHandlers.pipe(Layer.provide(AuthenticationLive), Layer.provide(makeIdentityServices(garmentEvents)))
  )

export const IdentityHttpLive = makeIdentityHttp()
