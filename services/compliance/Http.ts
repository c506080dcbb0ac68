import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { ComplianceApi } from "./Api.js"

export const ComplianceHttpLive = serveService(
  "compliance",
  ComplianceApi,
  HttpApiBuilder.group(ComplianceApi, "health", healthHandlers)
)
