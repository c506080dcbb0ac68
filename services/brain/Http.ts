import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { batchLane, batchServedByLane, serveBatch } from "../../shared/http/Batch.js"
import { BrainApi, BrainInternalApi, type IntentRequest } from "./Api.js"
import { Brain } from "./Brain.js"

/** the internal operation: one call (`internal`) or many in one request (`internalBatch`) */
const operations = Effect.map(Brain, (brain) => ({
  resolveIntent: (payload: IntentRequest) =>
    Effect.map(brain.resolveIntent(payload), (intent) => ({ intent })).pipe(
      Effect.withSpan("Brain.resolveIntent", { captureStackTrace: false })
    )
}))

/** the single call on the router; the batch endpoint on its lane (shared/http/Batch.ts `batchLane`) */
const InternalLive = Layer.merge(
  HttpApiBuilder.group(BrainApi, "internal", (h) =>
    Effect.map(operations, (op) => h.handle("resolveIntent", ({ payload }) => op.resolveIntent(payload)))
  ),
  batchServedByLane(BrainApi)
).pipe(Layer.provide(Brain.Default))

const BatchLaneLive = batchLane(
  "brain",
  BrainApi,
  Effect.map(operations, (op) => serveBatch("brain", BrainInternalApi, op))
).pipe(Layer.provide(Brain.Default))

export const BrainHttpLive = serveService(
  "brain",
  BrainApi,
  Layer.mergeAll(HttpApiBuilder.group(BrainApi, "health", healthHandlers), InternalLive),
  { lane: BatchLaneLive }
)
