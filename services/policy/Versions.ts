import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Queues } from "../../shared/layers/Queues.js"
import { auditEntryJob } from "../orchestrator/Api.js"
import { PolicyRules, type PolicySettings, policyVersion } from "./Rules.js"

/**
 * Records the running version of the privacy rules: the first process to start a version inserts its
 * `policy_versions` row and, in the same transaction, enqueues one `policy_version` audit entry (job id
 * and idempotency key from the version). Replicas starting together queue on the primary key; the
 * losers see the row and do nothing, so the log holds the version exactly once. A failed enqueue rolls
 * the row back and the next start tries again. Returns whether this call recorded it.
 */
export const recordPolicyVersion = (settings: PolicySettings) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const queues = yield* Queues
    const version = policyVersion(settings)
    const rules = JSON.stringify({ rules: PolicyRules, settings })
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        const rows = yield* sql<{ version: string }>`
          INSERT INTO policy_versions (version, rules) VALUES (${version}, ${rules}::jsonb)
          ON CONFLICT (version) DO NOTHING RETURNING version`
        if (rows.length === 0) return false
        const job = auditEntryJob({
          idempotencyKey: `policy_version:${version}`,
          kind: "policy_version",
          actor: { _tag: "Public", id: "service:policy" },
          subject: { _tag: "Public", id: `policy:${version}` },
          payload: { version, name: PolicyRules.name, settings },
          timeMs: Date.now()
        })
        yield* queues.add(job.queue, job.name, job.data, job.opts)
        return true
      })
    )
  }).pipe(Effect.withSpan("Policy.recordVersion"))
