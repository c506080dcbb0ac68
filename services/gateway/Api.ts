import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { HealthApi } from "../../shared/http/Health.js"
import { RateLimited } from "../../shared/http/RateLimit.js"
import { EscalationsApi } from "../compliance/Api.js"
import { AuthApi, DevicesApi, DirectoryApi, InboxApi, OwnershipApi, PrivacyApi, UsersApi } from "../identity/Api.js"
import { OpsApi, WebhooksApi } from "../orchestrator/Api.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { GarmentsApi } from "../knowledge/Api.js"
import { ConsentsApi } from "../policy/Api.js"
import { LinksApi } from "./LinksApi.js"
import { ScansApi } from "./scans/Api.js"

export type GatewayGroups =
  | typeof HealthApi
  | typeof ScansApi
  | typeof AuthApi
  | typeof UsersApi
  | typeof DevicesApi
  | typeof OwnershipApi
  | typeof PrivacyApi
  | typeof ConsentsApi
  | typeof GarmentsApi
  | typeof DirectoryApi
  | typeof InboxApi
  | typeof EscalationsApi
  | typeof WebhooksApi
  | typeof OpsApi
  | typeof LinksApi

/**
 * The gateway service's HTTP contract: the public API. Scans are the gateway's own; sign-in, devices,
 * ownership, privacy rights, the directory and the inbox are identity's groups, consents policy's, garments
 * knowledge's, escalations compliance's, webhooks and ops the orchestrator's (each from its service's
 * Api.ts), mounted here so scanner apps and the console use one host.
 */
export const GatewayApi = HttpApi.make("gateway")
  .add(HealthApi)
  .add(ScansApi)
  .add(AuthApi)
  .add(UsersApi)
  .add(DevicesApi)
  .add(OwnershipApi)
  .add(PrivacyApi)
  .add(ConsentsApi)
  .add(GarmentsApi)
  // the console's groups: directory and inbox (identity), escalations (compliance), webhooks and ops (orchestrator)
  .add(DirectoryApi)
  .add(InboxApi)
  .add(EscalationsApi)
  .add(WebhooksApi)
  .add(OpsApi)
  // the GS1 Digital Link resolver's links (the resolver itself is served beside the contract: Resolver.ts)
  .add(LinksApi)
  // every public route is rate limited per IP and per client (429 with Retry-After)
  .addError(RateLimited)
  .annotate(OpenApi.Title, "Brand.Me gateway")
  .annotate(OpenApi.Description, Services.gateway.description)
