import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer, Option } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AuthenticationLive, CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { requireRole } from "../identity/Authenticate.js"
import type { AnchorRecord } from "./AnchorRepo.js"
import { Anchoring } from "./Anchoring.js"
import { AnchorNotFound, ChainApi, type AnchorView } from "./Api.js"
import { AnchoringLive } from "./Live.js"

const view = (a: AnchorRecord): AnchorView => ({
  id: a.id,
  origin: a.origin,
  treeSize: a.treeSize,
  rootHex: a.rootHex,
  provider: a.provider,
  txId: a.txId,
  status: a.status,
  attempts: a.attempts,
  lastError: a.lastError,
  submittedAt: a.submittedAt?.toISOString() ?? null,
  confirmedAt: a.confirmedAt?.toISOString() ?? null,
  confirmations: a.confirmations,
  cborHex: a.cborHex
})

const auditor = Effect.flatMap(CurrentPrincipal, (p) => requireRole(p, ["auditor", "admin"], "reading chain anchors"))

const AnchorsLive = HttpApiBuilder.group(ChainApi, "anchors", (h) =>
  Effect.gen(function* () {
    const anchoring = yield* Anchoring
    const config = yield* AppConfig
    return h
      .handle("list", ({ urlParams }) =>
        Effect.gen(function* () {
          yield* auditor
          const anchors = yield* Effect.orDie(anchoring.list(urlParams.status, urlParams.limit ?? 50))
          return { anchors: anchors.map(view) }
        })
      )
      .handle("byTreeSize", ({ path }) =>
        Effect.gen(function* () {
          yield* auditor
          const found = yield* Effect.orDie(anchoring.findByCheckpoint(config.audit.origin, path.treeSize))
          return yield* Option.match(found, {
            onNone: () => Effect.fail(new AnchorNotFound({ message: `no anchor for tree size ${path.treeSize}` })),
            onSome: (a) => Effect.succeed(view(a))
          })
        })
      )
  })
)

export const ChainHttpLive = serveService(
  "chain",
  ChainApi,
  Layer.mergeAll(
    HttpApiBuilder.group(ChainApi, "health", healthHandlers),
    AnchorsLive.pipe(Layer.provide(AnchoringLive), Layer.provide(AuthenticationLive), Layer.provide(TokensLive))
  )
)
