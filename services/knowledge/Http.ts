import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { requirePrincipal } from "../../shared/auth/Authenticate.js"
import { ensureScanPathStream } from "../../shared/events/ScanPathFacts.js"
import { type GarmentsApi, KnowledgeApi } from "./Api.js"
import { GarmentCatalog } from "./Catalog.js"
import { importGarments, Knowledge } from "./Knowledge.js"

/**
 * The garments group's handlers as a group builder: knowledge mounts them on its own API and the
 * gateway mounts the same group on the public host (`HttpApiBuilder.group(GatewayApi, "garments", garmentsHandlers)`).
 */
export const garmentsHandlers = <E, Provides, R>(h: GroupHandlers<typeof GarmentsApi, E, Provides, R>) =>
  Effect.zipWith(Knowledge, GarmentCatalog, (k, catalog) =>
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
      .handle("list", ({ headers, urlParams }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => catalog.list(p, urlParams))
      )
      .handle("versions", ({ headers, path }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => catalog.versions(p, path.id))
      )
      .handle("scans", ({ headers, path, urlParams }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) => catalog.scans(p, path.id, urlParams))
      )
      .handle("scanSummary", ({ headers, path, urlParams }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) =>
          catalog.scanSummary(p, path.id, urlParams.days ?? 30)
        )
      )
      .handle("import", ({ headers, payload }) =>
        Effect.flatMap(requirePrincipal(headers.authorization), (p) =>
          Effect.provideService(importGarments(p, payload.garments), Knowledge, k)
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

/** Knowledge's logic with what its public group needs (Tokens) and the scan-path stream it publishes on. */
export const KnowledgeServicesLive = Layer.mergeAll(
  Knowledge.Default,
  GarmentCatalog.Default,
  TokensLive,
  Layer.effectDiscard(ensureScanPathStream)
)

export const KnowledgeHttpLive = serveService(
  "knowledge",
  KnowledgeApi,
  Layer.mergeAll(
    HttpApiBuilder.group(KnowledgeApi, "health", healthHandlers),
    HttpApiBuilder.group(KnowledgeApi, "garments", garmentsHandlers),
    InternalLive
  ).pipe(Layer.provide(KnowledgeServicesLive))
)
