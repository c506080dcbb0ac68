import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { OrchestratorApi } from "./Api.js"

export const OrchestratorHttpLive = serveService(
  "orchestrator",
  OrchestratorApi,
  HttpApiBuilder.group(OrchestratorApi, "health", healthHandlers)
)
