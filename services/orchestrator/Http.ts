import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { OrchestratorApi } from "./Api.js"
import { OrchestratorLive, preloadRoleModules } from "./Orchestrator.js"

/**
 * The health server plus the workers/beat beside it; the workers get Metrics from the server layer. A worker
 * role's modules are imported before the server listens (readiness means the workers can start at once).
 */
export const OrchestratorHttpLive = Layer.unwrapEffect(
  Effect.as(
    preloadRoleModules,
    Layer.provideMerge(
      OrchestratorLive,
      serveService("orchestrator", OrchestratorApi, HttpApiBuilder.group(OrchestratorApi, "health", healthHandlers))
    )
  )
)
