import { Effect, Layer, Option } from "effect"
import { AppConfig, type AppConfigShape } from "../../../shared/config/AppConfig.js"
import { InfraLive } from "../../../shared/layers/Infra.js"
import { AuditLog } from "../AuditLog.js"
import { signCheckpointNow, signerFromSecret } from "../Checkpointer.js"
import { AuditLogLive } from "../Live.js"

/**
 * Fills the audit log of the services started on `config` through the layer they run: for each size in
 * `checkpointSizes` (ascending) it appends leaves `[i, ...marker]` up to that size and signs a checkpoint.
 * Returns the signer's verifier key.
 */
export const seedAuditLog = (
  config: AppConfigShape,
  checkpointSizes: ReadonlyArray<number>,
  marker: ReadonlyArray<number>
): Promise<string> => {
  const signer = signerFromSecret(config.audit.origin, "test-audit-key")
  return Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* AuditLog
      let size = 0
      for (const target of checkpointSizes) {
        for (; size < target; size++)
          yield* log.appendLeaf("scan.recorded", new Uint8Array([size, ...marker]), new Date())
        const signed = yield* signCheckpointNow(config.audit.origin, signer)
        if (Option.isNone(signed)) return yield* Effect.dieMessage(`no checkpoint signed at size ${target}`)
      }
      return signer.verifierKey
    }).pipe(
      Effect.provide(AuditLogLive.pipe(Layer.provideMerge(InfraLive("audit-seed")))),
      Effect.provide(Layer.succeed(AppConfig, config)),
      Effect.scoped
    )
  )
}
