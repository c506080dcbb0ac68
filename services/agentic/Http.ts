import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AgenticApi } from "./Api.js"

export const AgenticHttpLive = serveService(
  "agentic",
  AgenticApi,
  HttpApiBuilder.group(AgenticApi, "health", healthHandlers)
)
