/**
 * Signs checkpoints (C2SP signed notes) of the audit log, per interval or every N entries, and never two
 * inconsistent ones: a new checkpoint is signed only after a consistency proof from the last signed one,
 * built from the stored nodes, verifies against the last signed root. Checkpointers in different processes
 * are serialised by an advisory lock.
 */
import { masterKeyBytes } from "../../shared/crypto/Pii.js"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Either, Option, Schedule } from "effect"
import { utf8 } from "../../shared/audit/Bytes.js"
import {
  type CheckpointSigner,
  parseSignerKey,
  signCheckpoint,
  signerFromSeed
} from "../../shared/audit/CheckpointSigner.js"
import { consistencyPlan, rangeHash, verifyConsistencySync } from "../../shared/audit/Merkle.js"
import { sha256 } from "../../shared/audit/Sha256.js"
import { AuditStoreError } from "./AuditErrors.js"
import * as Repo from "./AuditRepo.js"
import { nodeHasher } from "./NodeHasher.js"

export interface SignedCheckpoint {
  readonly treeSize: number
  readonly root: Uint8Array
  readonly note: string
}

/**
 * AUDIT_SIGNING_KEY is a note signer key (`PRIVATE+KEY+<name>+<id>+<base64>`). Any other text (the
 * development default) is stretched into a seed so development works; production config refuses the default.
 */
export const signerFromSecret = (origin: string, secret: string): CheckpointSigner => {
  const parsed = parseSignerKey(secret)
  return Either.isRight(parsed) ? parsed.right : signerFromSeed(origin, sha256(utf8(`brandme-audit-signing:${secret}`)))
}

/** PII_MASTER_KEY as 32 bytes: hex or base64 of 32 bytes, else (development text) its SHA-256. */
/** PII_MASTER_KEY → the key that wraps subject keys; the same derivation identity uses (shared/crypto/Pii). */
export const masterKeyFromSecret = (secret: string): Uint8Array => new Uint8Array(masterKeyBytes(secret))

const refuse = (message: string) => new AuditStoreError({ operation: "Checkpointer.sign", message })

/** Signs a checkpoint at the current tree size unless it equals the last one. */
export const signCheckpointNow = (origin: string, signer: CheckpointSigner) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const run = Effect.gen(function* () {
      yield* Repo.lockCheckpointer
      const last = yield* Repo.latestCheckpoint
      const size = yield* Repo.treeSize
      const lastSize = Option.match(last, { onNone: () => 0, onSome: (c) => c.tree_size })
      if (size < lastSize) return yield* refuse(`tree size ${size} is below the last checkpoint ${lastSize}`)
      if (size === 0 || size === lastSize) return Option.none<SignedCheckpoint>()
      const plan = lastSize === 0 ? [] : Either.getOrElse(consistencyPlan(lastSize, size), () => [])
      const ranges = [...plan, { start: 0, end: lastSize }, { start: 0, end: size }]
      const source = yield* Repo.sourceFor(ranges)
      const hashes: Array<Uint8Array> = []
      for (const r of ranges) {
        const h = rangeHash(r, source, nodeHasher)
        if (Either.isLeft(h)) return yield* refuse(`stored node ${h.left.level}:${h.left.index} is missing`)
        hashes.push(h.right)
      }
      const root = hashes[hashes.length - 1]!
      if (Option.isSome(last)) {
        const ok = verifyConsistencySync(lastSize, size, last.value.root, root, hashes.slice(0, -2))
        if (Either.isLeft(ok))
          return yield* refuse(
            `refusing to sign: tree is not consistent with checkpoint ${lastSize} (${ok.left.reason})`
          )
      }
      const note = signCheckpoint(signer, { origin, treeSize: size, rootHash: root, extensions: [] })
      yield* Repo.insertCheckpoint(size, root, note)
      return Option.some({ treeSize: size, root, note })
    })
    return yield* sql.withTransaction(run).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(refuse(e.message))))
  }).pipe(Effect.withSpan("Checkpointer.sign"))

export interface CheckpointerOptions {
  readonly origin: string
  readonly signer: CheckpointSigner
  /** Sign once this many entries arrived since the last checkpoint… */
  readonly everyEntries: number
  /** …or once this long has passed with any new entry. */
  readonly interval: Duration.DurationInput
  /** How often to look; defaults to min(interval, 1 s). */
  readonly poll?: Duration.DurationInput
}

/** The checkpointer loop (fork it in the service's scope). Failures are logged and retried next tick. */
export const runCheckpointer = (o: CheckpointerOptions) =>
  Effect.gen(function* () {
    const interval = Duration.toMillis(o.interval)
    let lastSignedAt = Date.now()
    const tick = Effect.gen(function* () {
      const size = yield* Repo.treeSize
      const last = yield* Repo.latestCheckpoint
      const lastSize = Option.match(last, { onNone: () => 0, onSome: (c) => c.tree_size })
      const due = size - lastSize >= o.everyEntries || (size > lastSize && Date.now() - lastSignedAt >= interval)
      if (!due) return
      const signed = yield* signCheckpointNow(o.origin, o.signer)
      if (Option.isSome(signed)) {
        lastSignedAt = Date.now()
        yield* Effect.logDebug(`signed audit checkpoint at size ${signed.value.treeSize}`)
      }
    }).pipe(Effect.catchAll((e) => Effect.logError(`audit checkpointer: ${e.message}`)))
    const poll = o.poll ?? Duration.millis(Math.min(interval, 1000))
    return yield* Effect.repeat(tick, Schedule.spaced(poll)).pipe(Effect.zipRight(Effect.never))
  }).pipe(Effect.withSpan("Checkpointer.run"))
