import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Layer } from "effect"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { OrchestratorApi } from "./Api.js"
import { OrchestratorLive } from "./Orchestrator.js"

/** The health server plus the workers/beat beside it; the workers get Metrics from the server layer. */
export const OrchestratorHttpLive = Layer.provideMerge(
  OrchestratorLive,
  serveService("orchestrator", OrchestratorApi, HttpApiBuilder.group(OrchestratorApi, "health", healthHandlers))
)
