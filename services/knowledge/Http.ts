import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AuthenticationLive, CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { ensureScanPathStream } from "../../shared/events/ScanPathFacts.js"
import { batchLane, batchServedByLane, serveBatch } from "../../shared/http/Batch.js"
import { type GarmentsApi, KnowledgeApi, KnowledgeInternalApi, type ResolveRequest } from "./Api.js"
import { GarmentCatalog } from "./Catalog.js"
import { importGarments, Knowledge, type ViewCall } from "./Knowledge.js"

/**
 * The garments group's handlers as a group builder: knowledge mounts them on its own API and the
 * gateway mounts the same group on the public host (`HttpApiBuilder.group(GatewayApi, "garments", garmentsHandlers)`).
 */
export const garmentsHandlers = <E, Provides, R>(h: GroupHandlers<typeof GarmentsApi, E, Provides, R>) =>
  Effect.zipWith(Knowledge, GarmentCatalog, (k, catalog) =>
    h
      .handle("create", ({ payload }) => Effect.flatMap(CurrentPrincipal, (p) => k.create(p, payload)))
      .handle("update", ({ path, payload }) => Effect.flatMap(CurrentPrincipal, (p) => k.update(p, path.id, payload)))
      .handle("get", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => k.get(p, path.id)))
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentPrincipal, (p) => catalog.list(p, urlParams)))
      .handle("versions", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => catalog.versions(p, path.id)))
      .handle("scans", ({ path, urlParams }) =>
        Effect.flatMap(CurrentPrincipal, (p) => catalog.scans(p, path.id, urlParams))
      )
      .handle("scanSummary", ({ path, urlParams }) =>
        Effect.flatMap(CurrentPrincipal, (p) => catalog.scanSummary(p, path.id, urlParams.days ?? 30))
      )
      .handle("import", ({ payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) =>
          Effect.provideService(importGarments(p, payload.garments), Knowledge, k)
        )
      )
  )

/** the internal operations: one call each (`internal`) or many in one request (`internalBatch`) */
export const internalOperations = Effect.map(Knowledge, (k) => ({
  resolve: ({ ref, view }: ResolveRequest) => k.resolve(ref, view),
  view: ({ garmentId, allowed, generation }: ViewCall) => k.view(garmentId, allowed, generation)
}))
/** a batch's resolves and views, each operation's calls run together (Knowledge's bulk forms, as promises) */
export const bulkOperations = Effect.map(Knowledge, (k) => ({ resolve: k.plain.resolveMany, view: k.plain.viewMany }))

/** the single calls on the router; the batch endpoint on its lane (shared/http/Batch.ts `batchLane`) */
const InternalLive = Layer.merge(
  HttpApiBuilder.group(KnowledgeApi, "internal", (h) =>
    Effect.map(internalOperations, (op) =>
      h.handle("resolve", ({ payload }) => op.resolve(payload)).handle("view", ({ payload }) => op.view(payload))
    )
  ),
  batchServedByLane(KnowledgeApi)
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
    HttpApiBuilder.group(KnowledgeApi, "garments", garmentsHandlers).pipe(Layer.provide(AuthenticationLive)),
    InternalLive
  ).pipe(Layer.provide(KnowledgeServicesLive)),
  {
    lane: batchLane(
      "knowledge",
      KnowledgeApi,
      Effect.zipWith(internalOperations, bulkOperations, (op, bulk) =>
        serveBatch("knowledge", KnowledgeInternalApi, op, bulk)
      )
    ).pipe(Layer.provide(KnowledgeServicesLive))
  }
)
