import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { PolicyApi } from "./Api.js"

export const PolicyHttpLive = serveService(
  "policy",
  PolicyApi,
  HttpApiBuilder.group(PolicyApi, "health", healthHandlers)
)
