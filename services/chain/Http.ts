import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { ChainApi } from "./Api.js"

export const ChainHttpLive = serveService("chain", ChainApi, HttpApiBuilder.group(ChainApi, "health", healthHandlers))
