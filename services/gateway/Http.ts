import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { GatewayApi } from "./Api.js"

export const GatewayHttpLive = serveService(
  "gateway",
  GatewayApi,
  HttpApiBuilder.group(GatewayApi, "health", healthHandlers)
)
