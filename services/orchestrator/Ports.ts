import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { toHex } from "../../shared/audit/Bytes.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import type { Principal } from "../../shared/auth/Tokens.js"
import { Anchoring } from "../chain/Anchoring.js"
import { ChainConfig } from "../chain/ChainConfig.js"
import { ChainProviderLive } from "../chain/Providers.js"
import { AnchorWallet } from "../chain/Wallet.js"
import { type AppendedEntry, AuditLog, auditLogLayer, type KeyedEntry } from "../compliance/AuditLog.js"
import { masterKeyFromSecret, signCheckpointNow, signerFromSecret } from "../compliance/Checkpointer.js"
import { verifyIntegrity } from "../compliance/Integrity.js"
import { importGarments, Knowledge } from "../knowledge/Knowledge.js"
import { subjectKeysLayer } from "../compliance/SubjectKeys.js"
import { PortFailed } from "./Errors.js"

/**
 * What the orchestrator's tasks ask of other services, as narrow ports. The live layers call the
 * compliance (AuditLog, Integrity, Checkpointer), chain (Anchoring) and knowledge seams; tests swap
 * in recording stubs so queue behaviour is tested apart from those services.
 */
export interface AuditPortShape {
  /** appends each entry once per key (a key already in the log answers with its leaf, `fresh: false`) */
  readonly appendOnce: (entries: ReadonlyArray<KeyedEntry>) => Effect.Effect<ReadonlyArray<AppendedEntry>, PortFailed>
  readonly verify: Effect.Effect<
    { readonly ok: boolean; readonly treeSize: number; readonly problems: number },
    PortFailed
  >
  /** signs a checkpoint if the tree grew; the checkpoint to anchor, if any */
  readonly checkpoint: Effect.Effect<
    Option.Option<{ readonly origin: string; readonly treeSize: number; readonly rootHex: string }>,
    PortFailed
  >
}
export class AuditPort extends Context.Tag("brandme/orchestrator/AuditPort")<AuditPort, AuditPortShape>() {}

export interface ChainPortShape {
  readonly anchorCheckpoint: (p: {
    readonly origin: string
    readonly treeSize: number
    readonly rootHex: string
  }) => Effect.Effect<{ readonly id: string; readonly status: string; readonly txId: string }, PortFailed>
  readonly syncConfirmations: Effect.Effect<{ readonly checked: number; readonly transitions: number }, PortFailed>
}
export class ChainPort extends Context.Tag("brandme/orchestrator/ChainPort")<ChainPort, ChainPortShape>() {}

/** One garment import's outcome, as knowledge's `importGarments` reports an item. */
export interface GarmentImportResult {
  readonly ok: boolean
  readonly id?: string | undefined
  readonly error?: { readonly error: string; readonly message: string } | undefined
}

/**
 * Knowledge: cache warming (`Knowledge.metadata` fills `knowledge:garment:<id>`, TTL 1 h) and garment
 * inserts (`importGarments`, validated and authorised as the principal who started the import).
 */
export interface KnowledgePortShape {
  readonly warmGarment: (garmentId: string) => Effect.Effect<boolean, PortFailed>
  readonly importGarment: (principal: Principal, item: unknown) => Effect.Effect<GarmentImportResult, PortFailed>
}
export class KnowledgePort extends Context.Tag("brandme/orchestrator/KnowledgePort")<
  KnowledgePort,
  KnowledgePortShape
>() {}

const portError = (port: string, operation: string) => (e: { readonly message: string }) =>
  new PortFailed({ port, operation, message: e.message })

export const AuditPortLive = Layer.effect(
  AuditPort,
  Effect.gen(function* () {
    const config = yield* AppConfig
    const log = yield* AuditLog
    const sql = yield* SqlClient.SqlClient
    const origin = config.audit.origin
    const signer = signerFromSecret(origin, Redacted.value(config.audit.signingKey))
    return {
      appendOnce: (entries) => log.appendOnce(entries).pipe(Effect.mapError(portError("audit", "append"))),
      verify: verifyIntegrity().pipe(
        Effect.map((r) => ({
          ok: r.ok,
          treeSize: r.treeSize,
          problems: r.violations.length + r.checkpointMismatches.length
        })),
        Effect.mapError(portError("audit", "verify")),
        Effect.provideService(SqlClient.SqlClient, sql)
      ),
      checkpoint: signCheckpointNow(origin, signer).pipe(
        Effect.map(Option.map((c) => ({ origin, treeSize: c.treeSize, rootHex: toHex(c.root) }))),
        Effect.mapError(portError("audit", "checkpoint")),
        Effect.provideService(SqlClient.SqlClient, sql)
      )
    } satisfies AuditPortShape
  })
).pipe(
  Layer.provide(
    Layer.unwrapEffect(
      Effect.map(AppConfig, (c) =>
        auditLogLayer().pipe(
          Layer.provide(subjectKeysLayer(masterKeyFromSecret(Redacted.value(c.privacy.piiMasterKey))))
        )
      )
    )
  )
)

export const ChainPortLive = Layer.effect(
  ChainPort,
  Effect.map(Anchoring, (a) => ({
    anchorCheckpoint: (p) =>
      a.anchorCheckpoint(p).pipe(
        Effect.map((r) => ({ id: r.id, status: r.status, txId: r.txId })),
        Effect.mapError(portError("chain", "anchorCheckpoint"))
      ),
    syncConfirmations: a.syncConfirmations.pipe(
      Effect.map((r) => ({ checked: r.checked, transitions: r.transitions.length })),
      Effect.mapError(portError("chain", "syncConfirmations"))
    )
  }))
).pipe(
  Layer.provide(Anchoring.Default),
  Layer.provide(ChainProviderLive),
  Layer.provide(AnchorWallet.layer),
  Layer.provide(ChainConfig.layer)
)

export const KnowledgePortLive = Layer.effect(
  KnowledgePort,
  Effect.gen(function* () {
    const knowledge = yield* Knowledge
    const context = yield* Effect.context<Knowledge>()
    return {
      warmGarment: (garmentId) =>
        knowledge.metadata(garmentId).pipe(
          Effect.as(true),
          Effect.catchTag("GarmentNotFound", () => Effect.succeed(false)),
          Effect.mapError(portError("knowledge", "warmGarment"))
        ),
      importGarment: (principal, item) =>
        importGarments(principal, [item]).pipe(
          Effect.provide(context),
          Effect.map(
            (r): GarmentImportResult => r.results[0] ?? { ok: false, error: { error: "Empty", message: "no result" } }
          ),
          Effect.mapError(portError("knowledge", "importGarment"))
        )
    } satisfies KnowledgePortShape
  })
).pipe(Layer.provide(Knowledge.Default))
