import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Layer } from "effect"
import { AuthenticationLive } from "../../shared/auth/Middleware.js"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import type { BrainClient } from "../brain/Client.js"
import type { KnowledgeClient } from "../knowledge/Client.js"
import type { PolicyClient } from "../policy/Client.js"
import { Escalations, escalationsHandlers } from "../compliance/Http.js"
import {
  authHandlers,
  devicesHandlers,
  directoryHandlers,
  inboxHandlers,
  ownershipHandlers,
  privacyHandlers,
  usersHandlers
} from "../identity/Handlers.js"
import { IdentityServicesLive } from "../identity/Http.js"
import { garmentsHandlers, KnowledgeServicesLive } from "../knowledge/Http.js"
import { opsHandlers, WebhookSubscriptions, webhooksHandlers } from "../orchestrator/Port.js"
import { consentsHandlers, PolicyServicesLive } from "../policy/Http.js"
import { GatewayApi } from "./Api.js"
import { InternalCallsLive } from "./Calls.js"
import { Links, linksHandlers } from "./Links.js"
import { resolverRoutes } from "./Resolver.js"
import { PublicLimits, PublicLimitsGuardLive } from "./Limits.js"
import { ScanLaneLive, ScansServedByLane } from "./scans/Lane.js"
import { Scans } from "./scans/Scans.js"
import { serveService } from "../../shared/http/Server.js"

/** Gateway with a given way of calling brain/policy/knowledge (tests pick one explicitly). */
export const gatewayWith = <E, R>(calls: Layer.Layer<BrainClient | PolicyClient | KnowledgeClient, E, R>) => {
  // one Scans instance (its caches) shared by the scan lane and the resolver: the same layer value, so
  // the build memoises it
  const scans = Scans.Default.pipe(Layer.provide(calls))
  // one limiter for the lane and the router's guard (same layer value: built once)
  // device keys are verified against identity's devices (the same identity layer the groups use)
  const limits = PublicLimits.Default.pipe(Layer.provide(TokensLive), Layer.provide(IdentityServicesLive))
  return serveService(
    "gateway",
    GatewayApi,
    Layer.mergeAll(
      HttpApiBuilder.group(GatewayApi, "health", healthHandlers),
      // POST /v1/scans is the scan lane's alone (scans/Lane.ts): no router handler
      ScansServedByLane,
      Layer.mergeAll(
        HttpApiBuilder.group(GatewayApi, "auth", authHandlers),
        HttpApiBuilder.group(GatewayApi, "users", usersHandlers),
        HttpApiBuilder.group(GatewayApi, "devices", devicesHandlers),
        HttpApiBuilder.group(GatewayApi, "ownership", ownershipHandlers),
        HttpApiBuilder.group(GatewayApi, "privacy", privacyHandlers),
        HttpApiBuilder.group(GatewayApi, "directory", directoryHandlers),
        HttpApiBuilder.group(GatewayApi, "inbox", inboxHandlers)
      ).pipe(Layer.provide(AuthenticationLive), Layer.provide(IdentityServicesLive)),
      HttpApiBuilder.group(GatewayApi, "escalations", escalationsHandlers).pipe(
        Layer.provide(Escalations.Default),
        Layer.provide(AuthenticationLive)
      ),
      HttpApiBuilder.group(GatewayApi, "webhooks", webhooksHandlers).pipe(
        Layer.provide(WebhookSubscriptions.Default),
        Layer.provide(AuthenticationLive)
      ),
      HttpApiBuilder.group(GatewayApi, "ops", opsHandlers).pipe(Layer.provide(AuthenticationLive)),
      HttpApiBuilder.group(GatewayApi, "consents", consentsHandlers).pipe(
        Layer.provide(AuthenticationLive),
        Layer.provide(PolicyServicesLive)
      ),
      HttpApiBuilder.group(GatewayApi, "garments", garmentsHandlers).pipe(
        Layer.provide(AuthenticationLive),
        Layer.provide(KnowledgeServicesLive)
      ),
      HttpApiBuilder.group(GatewayApi, "links", linksHandlers).pipe(
        Layer.provide(Links.Default),
        Layer.provide(AuthenticationLive)
      )
    ),
    {
      docs: true,
      lane: ScanLaneLive.pipe(Layer.provide(Layer.mergeAll(scans, limits, TokensLive))),
      guard: PublicLimitsGuardLive.pipe(Layer.provide(limits)),
      // the GS1 Digital Link resolver: its scans go through the same Scans instance as POST /v1/scans
      routes: resolverRoutes(scans)
    }
  ).pipe(Layer.provide(TokensLive))
}

export const GatewayHttpLive = gatewayWith(InternalCallsLive)
