import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { IdentityApi } from "./Api.js"

export const IdentityHttpLive = serveService(
  "identity",
  IdentityApi,
  HttpApiBuilder.group(IdentityApi, "health", healthHandlers)
)
