/**
 * A separate OS process for the concurrency test: appends `count` entries through its own AuditLog (own
 * batcher, own pool) while running its own checkpointer, then prints the indices it got as JSON.
 * Usage: tsx appendWorker.ts <database url> <worker id> <count> <signer key>
 */
import { Duration, Effect, Either, Layer } from "effect"
import { payloadDigest } from "../../../shared/audit/AuditEntry.js"
import { parseSignerKey } from "../../../shared/audit/CheckpointSigner.js"
import { newSubjectKey } from "../../../shared/audit/SubjectCipher.js"
import { AuditLog, auditLogLayer } from "../AuditLog.js"
import { runCheckpointer } from "../Checkpointer.js"
import { subjectKeysLayer } from "../SubjectKeys.js"
import { pgLayer } from "./AuditTestDb.js"

const [url = "", worker = "0", count = "0", signerKey = ""] = process.argv.slice(2)
const signer = Either.getOrThrow(parseSignerKey(signerKey))

const program = Effect.gen(function* () {
  const log = yield* AuditLog
  yield* Effect.forkScoped(
    runCheckpointer({
      origin: signer.name,
      signer,
      everyEntries: 4000,
      interval: Duration.millis(400),
      poll: Duration.millis(100)
    })
  )
  const indices = yield* Effect.forEach(
    Array.from({ length: Number(count) }, (_, i) => i),
    (i) =>
      log.append({
        kind: "test.concurrency",
        actor: { _tag: "Public", id: `worker:${worker}` },
        subject: { _tag: "Public", id: `item:${i}` },
        payloadDigest: payloadDigest({ worker, i }),
        timeMs: Date.now()
      }),
    { concurrency: 100 }
  )
  // Marked, because the Effect logger shares stdout (e.g. a checkpointer retry logged under load).
  process.stdout.write(`INDICES ${JSON.stringify(indices)}\n`)
})

const layer = auditLogLayer({ batchLingerMs: 3, batchMaxEntries: 200 }).pipe(
  Layer.provide(subjectKeysLayer(newSubjectKey())),
  Layer.provideMerge(pgLayer(url, 3))
)
Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(layer)))).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${String(e)}\n`)
    process.exit(1)
  }
)
