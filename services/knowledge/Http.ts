import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { KnowledgeApi } from "./Api.js"

export const KnowledgeHttpLive = serveService(
  "knowledge",
  KnowledgeApi,
  HttpApiBuilder.group(KnowledgeApi, "health", healthHandlers)
)
