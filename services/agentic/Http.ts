import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Layer } from "effect"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AgenticApi } from "./Api.js"
import { ScanConsumerLive } from "./Consumer.js"
import { DetectorSettings } from "./Detector.js"

/** The health server plus the scan-pattern consumer beside it (which counts escalations in its metrics). */
export const AgenticHttpLive = Layer.provideMerge(
  ScanConsumerLive.pipe(Layer.provide(DetectorSettings.layer)),
  serveService("agentic", AgenticApi, HttpApiBuilder.group(AgenticApi, "health", healthHandlers))
)
