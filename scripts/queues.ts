/**
 * Queue operations: `npm run queues -- status` prints every queue's counts and the scan log's backlog;
 * `relay` moves the scan log into scans jobs now (when no orchestrator's relay holds the lease);
 * `dlq list`, `dlq replay <id>`, `dlq replay --all` inspect and replay dead letters
 * (replay re-adds the job to its original queue under its original id and removes the letter).
 */
import { Effect } from "effect"
import { QueuesLive } from "../shared/layers/Queues.js"
import { runProcess } from "../shared/runtime/Process.js"
import { listDeadLetters, replayAll, replayDeadLetter } from "../services/orchestrator/DeadLetters.js"
import { formatTable, queueTable, scanLogBacklog } from "../services/orchestrator/QueueStats.js"
import { relayScanLogOnce } from "../services/orchestrator/scans/Relay.js"

const usage = "usage: npm run queues -- status | relay | dlq list | dlq replay <id> | dlq replay --all"
const [command, sub, arg] = process.argv.slice(2)

const program = Effect.gen(function* () {
  if (command === "status") {
    const rows = yield* queueTable
    process.stdout.write(`${formatTable(rows)}\n`)
    const logged = yield* scanLogBacklog
    process.stdout.write(`scan log: ${logged} entr${logged === 1 ? "y" : "ies"} waiting for the relay\n`)
    return 0
  }
  if (command === "relay") {
    const p = yield* relayScanLogOnce({ owner: "brandme-queues-cli" })
    process.stdout.write(
      p.held
        ? `relayed ${p.entries} entries (${p.scans} scans) into ${p.jobs} jobs; ${p.deadLettered} dead-lettered\n`
        : "an orchestrator's relay holds the lease: it is relaying the log\n"
    )
    return p.held ? 0 : 1
  }
  if (command === "dlq" && sub === "list") {
    const letters = yield* listDeadLetters()
    if (letters.length === 0) process.stdout.write("no dead letters\n")
    for (const l of letters)
      process.stdout.write(
        `${l.id}  ${l.queue}/${l.name}  job=${l.jobId}  attempts=${l.attempts}${l.unrecoverable ? " unrecoverable" : ""}  ${l.failedAt}\n    ${l.error}\n`
      )
    return 0
  }
  if (command === "dlq" && sub === "replay" && arg === "--all") {
    const n = yield* replayAll
    process.stdout.write(`replayed ${n} dead letter(s)\n`)
    return 0
  }
  if (command === "dlq" && sub === "replay" && arg !== undefined) {
    const ok = yield* replayDeadLetter(arg)
    process.stdout.write(ok ? `replayed ${arg}\n` : `no dead letter ${arg}\n`)
    return ok ? 0 : 1
  }
  process.stderr.write(`${usage}\n`)
  return 2
}).pipe(
  Effect.provide(QueuesLive("brandme-queues-cli")),
  Effect.flatMap((code) => Effect.sync(() => process.exit(code)))
)

runProcess("queues", program)
