import { SqlClient } from "@effect/sql"
import { Effect, Option, Redacted } from "effect"
import { toHex } from "../../shared/audit/Bytes.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { type AppendedEntry, AuditLog, type KeyedEntry } from "./AuditLog.js"
import { signCheckpointNow, signerFromSecret } from "./Checkpointer.js"
import { verifyIntegrity } from "./Integrity.js"
import { AuditLogLive } from "./Live.js"

export type { AppendedEntry, KeyedEntry }

/** the proof reader the gateway's passport page uses (one statement per proof, nodes cached across proofs) */
export { makeProofReader, makeRunner } from "./ProofReader.js"
export { NodeCache } from "./AuditRepo.js"

/**
 * What another service may ask of compliance in-process (the orchestrator's audit and checkpoint jobs):
 * append entries once per key, verify the log's integrity, sign a checkpoint when the tree grew. The rest of
 * this folder is compliance's own; other services import this module, `Api.ts` or `Client`-like contracts only
 * (services/Boundaries.test.ts).
 */
export class CompliancePort extends Effect.Service<CompliancePort>()("brandme/compliance/Port", {
  dependencies: [AuditLogLive],
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const log = yield* AuditLog
    const sql = yield* SqlClient.SqlClient
    const origin = config.audit.origin
    const signer = signerFromSecret(origin, Redacted.value(config.audit.signingKey))
    return {
      /** appends each entry once per key (a key already in the log answers with its leaf, `fresh: false`) */
      appendOnce: (entries: ReadonlyArray<KeyedEntry>) => log.appendOnce(entries),
      verify: verifyIntegrity().pipe(
        Effect.map((r) => ({
          ok: r.ok,
          treeSize: r.treeSize,
          problems: r.violations.length + r.checkpointMismatches.length
        })),
        Effect.provideService(SqlClient.SqlClient, sql)
      ),
      /** signs a checkpoint if the tree grew; the checkpoint to anchor, if any */
      checkpoint: signCheckpointNow(origin, signer).pipe(
        Effect.map(Option.map((c) => ({ origin, treeSize: c.treeSize, rootHex: toHex(c.root) }))),
        Effect.provideService(SqlClient.SqlClient, sql)
      )
    }
  })
}) {}
