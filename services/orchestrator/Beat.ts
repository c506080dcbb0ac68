import { Effect } from "effect"
import { Queues } from "../../shared/layers/Queues.js"
import { dependencyFailed } from "./Errors.js"
import { jobOptionsFor, queueFor, type TaskName, TaskNames } from "./Routing.js"
import { OrchestratorSettings } from "./Settings.js"

/**
 * Beat: the periodic tasks as BullMQ Job Schedulers. `upsertJobScheduler` with a fixed id is
 * idempotent, so every process may register at start; the scheduler (state in Redis) produces one
 * job per interval, which exactly one worker takes however many run.
 */
export interface Schedule {
  readonly id: string
  readonly task: TaskName
  readonly everyMs: number
}

export const schedules = (every: {
  readonly cleanup: number
  readonly integrity: number
  readonly chainSync: number
  readonly checkpoint: number
}): ReadonlyArray<Schedule> => [
  { id: "beat-cleanup", task: TaskNames.cleanup, everyMs: every.cleanup },
  { id: "beat-audit-integrity", task: TaskNames.verifyAuditIntegrity, everyMs: every.integrity },
  { id: "beat-chain-sync", task: TaskNames.syncChainConfirmations, everyMs: every.chainSync },
  { id: "beat-checkpoint-anchor", task: TaskNames.checkpointAndAnchor, everyMs: every.checkpoint }
]

export const registerSchedules = (list: ReadonlyArray<Schedule>) =>
  Effect.gen(function* () {
    const queues = yield* Queues
    yield* Effect.forEach(
      list,
      (s) =>
        Effect.flatMap(queues.queue(queueFor(s.task)).pipe(Effect.orDie), (q) =>
          Effect.tryPromise({
            try: () => {
              const { jobId: _jobId, delay: _delay, deduplication: _d, ...opts } = jobOptionsFor(s.task)
              return q.upsertJobScheduler(s.id, { every: s.everyMs }, { name: s.task, data: {}, opts })
            },
            catch: dependencyFailed(`upsertJobScheduler ${s.id}`)
          })
        ),
      { discard: true }
    )
    yield* Effect.logInfo(`beat: ${list.length} job schedulers registered`)
  })

export const registerBeat = Effect.flatMap(OrchestratorSettings, (s) => registerSchedules(schedules(s.every)))
