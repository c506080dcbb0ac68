import { Effect } from "effect"
import { utf8 } from "../../shared/audit/Bytes.js"
import { sha256 } from "../../shared/audit/Sha256.js"
import { crashPoint } from "./CrashPoints.js"
import type { AppendAuditEntry } from "./Payloads.js"
import { AuditPort } from "./Ports.js"

/**
 * Appends each entry once per idempotency key, in order, in one group commit. The key goes into the append
 * transaction itself: the sequencer looks it up under its lock and answers an entry already in the log with its
 * leaf index, so work run again after its worker died (between the append's commit and the job's completion),
 * or two overlapping jobs, never add a second leaf. Nothing is claimed anywhere else first. Used by the
 * append_audit_entry task and by the scans worker, which appends a batch's scan entries itself.
 */
export const appendAuditEntries = (entries: ReadonlyArray<AppendAuditEntry>) =>
  Effect.gen(function* () {
    if (entries.length === 0) return { indexes: [], duplicates: 0 }
    const audit = yield* AuditPort
    const appended = yield* audit.appendOnce(
      entries.map((p) => ({
        key: p.idempotencyKey,
        entry: {
          kind: p.kind,
          actor: p.actor,
          subject: p.subject,
          payloadDigest: sha256(utf8(JSON.stringify(p.payload))),
          timeMs: p.timeMs
        }
      }))
    )
    yield* crashPoint("after-audit-append")
    return { indexes: appended.map((a) => a.index), duplicates: appended.filter((a) => !a.fresh).length }
  })
