import { Context, Effect, Layer, type Option } from "effect"
import { ChainPort as ChainService } from "../chain/Port.js"
import { type AppendedEntry, CompliancePort, type KeyedEntry } from "../compliance/Port.js"
import { PortFailed } from "./Errors.js"

/**
 * What the orchestrator's tasks ask of other services, as narrow ports. The live layers call the port each
 * service exports (`compliance/Port.ts`, `chain/Port.ts`) and turn its failures into one `PortFailed`; tests
 * swap in recording stubs so queue behaviour is tested apart from those services.
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

const portError = (port: string, operation: string) => (e: { readonly message: string }) =>
  new PortFailed({ port, operation, message: e.message })

export const AuditPortLive = Layer.effect(
  AuditPort,
  Effect.map(CompliancePort, (c) => ({
    appendOnce: (entries) => c.appendOnce(entries).pipe(Effect.mapError(portError("audit", "append"))),
    verify: c.verify.pipe(Effect.mapError(portError("audit", "verify"))),
    checkpoint: c.checkpoint.pipe(Effect.mapError(portError("audit", "checkpoint")))
  }))
).pipe(Layer.provide(CompliancePort.Default))

export const ChainPortLive = Layer.effect(
  ChainPort,
  Effect.map(ChainService, (c) => ({
    anchorCheckpoint: (p) => c.anchorCheckpoint(p).pipe(Effect.mapError(portError("chain", "anchorCheckpoint"))),
    syncConfirmations: c.syncConfirmations.pipe(Effect.mapError(portError("chain", "syncConfirmations")))
  }))
).pipe(Layer.provide(ChainService.Default))
