import { HttpApiBuilder } from "@effect/platform"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { BrainApi } from "./Api.js"

export const BrainHttpLive = serveService("brain", BrainApi, HttpApiBuilder.group(BrainApi, "health", healthHandlers))
