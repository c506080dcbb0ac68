import type { Job, Queue } from "bullmq"
import { Effect, Schema } from "effect"
import { DeadLetterQueue, type QueueName, QueueNames, Queues } from "../../shared/layers/Queues.js"
import { TaskDependencyFailed } from "./Errors.js"
import { isTaskName, jobOptionsFor, safeJobId } from "./Routing.js"

/**
 * Dead letters: a job that used up its attempts, or failed unrecoverably, is copied to the
 * `dead-letter` queue with where it came from, its data, the error and how often it ran. Nothing
 * consumes that queue; operators list and replay (`npm run queues -- dlq ...`).
 */
export const DeadLetter = Schema.Struct({
  queue: Schema.Literal(...QueueNames),
  name: Schema.String,
  jobId: Schema.String,
  data: Schema.Unknown,
  error: Schema.String,
  attempts: Schema.Number,
  unrecoverable: Schema.Boolean,
  failedAt: Schema.String
})
export type DeadLetter = typeof DeadLetter.Type

export const deadLetterJobId = (queue: string, jobId: string) => safeJobId("dl", queue, jobId)

const dep = (operation: string) => (e: unknown) =>
  new TaskDependencyFailed({ operation, message: e instanceof Error ? e.message : String(e) })

/**
 * Adds a letter; its id (from the original queue and job id) makes a second copy (a retried hand-off)
 * a no-op. Also used for one scan rejected out of a batch job: the letter is then a one-scan job.
 */
export const addDeadLetterFor = (dlq: Queue, l: Omit<DeadLetter, "failedAt">) =>
  dlq.add(
    "dead_letter",
    { ...l, error: l.error.slice(0, 4000), failedAt: new Date().toISOString() } satisfies DeadLetter,
    { jobId: deadLetterJobId(l.queue, l.jobId !== "" ? l.jobId : String(Date.now())) }
  )

/** Copies a failed job to the DLQ. */
export const addDeadLetter = (dlq: Queue, job: Job, queue: QueueName, error: string, unrecoverable: boolean) =>
  addDeadLetterFor(dlq, {
    queue,
    name: job.name,
    jobId: job.id ?? "",
    data: job.data,
    error,
    attempts: job.attemptsMade + 1,
    unrecoverable
  })

export interface DeadLetterView extends DeadLetter {
  readonly id: string
}

export const listDeadLetters = (limit = 1000) =>
  Effect.gen(function* () {
    const queues = yield* Queues
    const dlq = yield* queues.queue(DeadLetterQueue).pipe(Effect.orDie)
    const jobs = yield* Effect.tryPromise({
      try: () => dlq.getJobs(["waiting", "prioritized", "delayed"], 0, limit - 1, true),
      catch: dep("dlq list")
    })
    return jobs.flatMap((j): Array<DeadLetterView> => {
      const d = Schema.decodeUnknownOption(DeadLetter)(j.data)
      return d._tag === "Some" && j.id !== undefined ? [{ ...d.value, id: j.id }] : []
    })
  })

/**
 * Re-adds a dead letter to its original queue with its original id (the failed original is removed
 * first so the id is free), then deletes the letter. Returns false when no letter has that id.
 */
export const replayDeadLetter = (id: string) =>
  Effect.gen(function* () {
    const queues = yield* Queues
    const dlq = yield* queues.queue(DeadLetterQueue).pipe(Effect.orDie)
    const job = yield* Effect.tryPromise({ try: () => dlq.getJob(id), catch: dep("dlq get") })
    if (job === undefined) return false
    const letter = yield* Schema.decodeUnknown(DeadLetter)(job.data).pipe(Effect.mapError(dep("dlq decode")))
    const origin = yield* queues.queue(letter.queue).pipe(Effect.orDie)
    yield* Effect.tryPromise({
      try: async () => {
        const old = await origin.getJob(letter.jobId)
        if (old !== undefined) await old.remove()
        const opts = isTaskName(letter.name) ? jobOptionsFor(letter.name) : { attempts: 3 }
        await origin.add(letter.name, letter.data, letter.jobId !== "" ? { ...opts, jobId: letter.jobId } : opts)
        await job.remove()
      },
      catch: dep("dlq replay")
    })
    return true
  })

export const replayAll = Effect.gen(function* () {
  const letters = yield* listDeadLetters(100_000)
  let replayed = 0
  for (const l of letters) if (yield* replayDeadLetter(l.id)) replayed++
  return replayed
})
