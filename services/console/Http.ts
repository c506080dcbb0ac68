import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { ConsoleApi } from "./Api.js"

export const ConsoleHttpLive = serveService(
  "console",
  ConsoleApi,
  HttpApiBuilder.group(ConsoleApi, "health", healthHandlers)
)
