import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { BrainApi } from "./Api.js"
import { Brain } from "./Brain.js"

const InternalLive = HttpApiBuilder.group(BrainApi, "internal", (h) =>
  Effect.map(Brain, (brain) =>
    h.handle("resolveIntent", ({ payload }) =>
      Effect.map(brain.resolveIntent(payload), (intent) => ({ intent })).pipe(Effect.withSpan("Brain.resolveIntent"))
    )
  )
).pipe(Layer.provide(Brain.Default))

export const BrainHttpLive = serveService(
  "brain",
  BrainApi,
  Layer.mergeAll(HttpApiBuilder.group(BrainApi, "health", healthHandlers), InternalLive)
)
