import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { requirePrincipal } from "../../shared/auth/Authenticate.js"
import { ensureScanPathStream } from "../gateway/Events.js"
import { KnowledgeApi } from "./Api.js"
import { importGarments, Knowledge } from "./Knowledge.js"

const GarmentsLive = HttpApiBuilder.group(KnowledgeApi, "garments", (h) =>
  Effect.map(Knowledge, (k) =>
    h
      .handle("create", ({ headers, payload }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => k.create(p, payload))
      )
      .handle("update", ({ headers, path, payload }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => k.update(p, path.id, payload))
      )
      .handle("get", ({ headers, path }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => k.get(p, path.id))
      )
      .handle("import", ({ headers, payload }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) =>
          Effect.provideService(importGarments(p, payload.garments), Knowledge, k)
        )
      )
  )
)

const InternalLive = HttpApiBuilder.group(KnowledgeApi, "internal", (h) =>
  Effect.map(Knowledge, (k) =>
    h
      .handle("resolve", ({ payload }) => k.resolve(payload.ref))
      .handle("view", ({ payload }) => k.view(payload.garmentId, payload.allowed))
  )
)

export const KnowledgeHttpLive = serveService(
  "knowledge",
  KnowledgeApi,
  Layer.mergeAll(HttpApiBuilder.group(KnowledgeApi, "health", healthHandlers), GarmentsLive, InternalLive).pipe(
    Layer.provide(Knowledge.Default),
    Layer.provide(TokensLive),
    Layer.provide(Layer.effectDiscard(ensureScanPathStream))
  )
)
