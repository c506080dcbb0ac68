import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import type { JobsOptions, Queue } from "bullmq"
import { Deferred, Duration, Effect, Fiber, type Scope } from "effect"
import type { Redis as IORedis } from "ioredis"
import { MaxScansPerJob } from "../../../shared/domain/Scan.js"
import { DeadLetterQueue, Queues } from "../../../shared/layers/Queues.js"
import { addDeadLetterFor } from "../DeadLetters.js"
import { dependencyFailed, type TaskDependencyFailed } from "../Errors.js"
import { jobOptionsFor, queueFor, safeJobId, TaskNames } from "../Routing.js"
import { readScanLogEntry, scanLogKey, scanLogLeaseKey } from "../ScanLog.js"

/**
 * The scan log's relay: moves the gateway's log entries (`../ScanLog.ts`) into persist_scan_event jobs. One relay moves at a
 * time — the holder of a lease in Redis, renewed every pass; another worker process takes over within `leaseMs` of
 * the holder dying. A pass reads the OLDEST entries (everything older was relayed and deleted), groups consecutive
 * entries into jobs of at most MaxScansPerJob scans, adds the jobs, and only then deletes the entries. A job's id
 * names the exact entries it carries (`scans-log-<first>-<last>`), so a pass repeated after a crash between the add
 * and the delete adds no second copy when it groups the entries as before, and a copy of other ids when it does
 * not — which the persist task's scan ids make harmless (one row, one audit leaf, one message per scan). An entry
 * that is not a JSON array of scans goes to the dead-letter queue with the reason, never dropped.
 */
/**
 * About how many scans one pass reads: a few jobs' worth. An entry holds 1 to MaxScansPerJob scans (~1 KB each),
 * so a pass takes as many entries as held this many scans in the last pass: the usual small entries up to
 * `maxEntries` at once, a backlog of full ones a few at a time (~4 MB read, not 64). The first pass, knowing no
 * entry's size, takes FirstReadEntries.
 */
export const ScansPerRead = 4 * MaxScansPerJob
export const FirstReadEntries = 4

/** how many entries the next pass reads, after a pass that read `entries` entries holding `scans` scans */
export const nextReadCount = (scans: number, entries: number, maxEntries: number): number =>
  Math.max(1, Math.min(maxEntries, Math.floor(ScansPerRead / Math.max(1, scans / Math.max(1, entries)))))

export interface RelayOptions {
  /** the most entries one pass takes (each at most MaxScansPerJob scans; default 64; see ScansPerRead) */
  readonly maxEntries?: number
  /** how long a pass waits for a first entry (0: not at all; default 1 s) */
  readonly blockMs?: number
  /** the lease's lifetime (default 10 s): a dead relay's successor starts within it */
  readonly leaseMs?: number
  /** who holds the lease (default: host, pid and a random part) */
  readonly owner?: string
}

export interface RelayPass {
  /** false: another relay holds the lease, nothing was read */
  readonly held: boolean
  readonly entries: number
  readonly scans: number
  readonly jobs: number
  readonly deadLettered: number
}

interface Job {
  readonly name: string
  readonly data: { readonly scans: ReadonlyArray<unknown> }
  readonly opts: JobsOptions
}

// take the lease if it is free, renew it if it is ours
const LEASE = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

type StreamEntry = [id: string, fields: Array<string>]

const defaultOwner = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

/** Jobs of consecutive entries, each at most MaxScansPerJob scans, each named by its first and last entry. */
export const relayJobs = (entries: ReadonlyArray<{ readonly id: string; readonly scans: ReadonlyArray<unknown> }>) => {
  const jobs: Array<Job> = []
  let scans: Array<unknown> = []
  let first: string | undefined
  let last = ""
  const close = () => {
    if (first === undefined) return
    jobs.push({
      name: TaskNames.persistScanEvent,
      data: { scans },
      opts: jobOptionsFor(TaskNames.persistScanEvent, { jobId: safeJobId("scans", "log", first, last) })
    })
    scans = []
    first = undefined
  }
  for (const e of entries) {
    if (scans.length + e.scans.length > MaxScansPerJob) close()
    if (first === undefined) first = e.id
    last = e.id
    for (const s of e.scans) scans.push(s)
  }
  close()
  return jobs
}

export const makeScanRelay = (o: {
  /** commands (lease, add, delete) */
  readonly connection: IORedis
  /** the blocking read: a connection of its own (a blocked XREAD holds up every command behind it) */
  readonly reader: IORedis
  readonly prefix: string
  readonly add: (jobs: ReadonlyArray<Job>) => Promise<unknown>
  readonly deadLetter: (l: {
    readonly entryId: string
    readonly raw: unknown
    readonly error: string
  }) => Promise<unknown>
  readonly options?: RelayOptions
}) => {
  const key = scanLogKey(o.prefix)
  const leaseKey = scanLogLeaseKey(o.prefix)
  const owner = o.options?.owner ?? defaultOwner()
  const leaseMs = o.options?.leaseMs ?? 10_000
  const maxEntries = o.options?.maxEntries ?? 64
  const blockMs = o.options?.blockMs ?? 1_000
  let count = Math.min(maxEntries, FirstReadEntries)

  const pass = async (block = blockMs): Promise<RelayPass> => {
    const held = Number(await o.connection.eval(LEASE, 1, leaseKey, owner, String(leaseMs))) === 1
    const none = { held, entries: 0, scans: 0, jobs: 0, deadLettered: 0 }
    if (!held) return none
    // the oldest entries: every older one was relayed and deleted
    const reply = (
      block > 0
        ? await o.reader.xread("COUNT", count, "BLOCK", block, "STREAMS", key, "0-0")
        : await o.reader.xread("COUNT", count, "STREAMS", key, "0-0")
    ) as Array<[string, Array<StreamEntry>]> | null
    const read = reply?.[0]?.[1] ?? []
    if (read.length === 0) return none
    const good: Array<{ id: string; scans: ReadonlyArray<unknown> }> = []
    let scans = 0
    let deadLettered = 0
    for (const [id, fields] of read) {
      const entry = readScanLogEntry(fields)
      if ("scans" in entry) {
        good.push({ id, scans: entry.scans })
        scans += entry.scans.length
      } else {
        await o.deadLetter({ entryId: id, raw: entry.raw, error: entry.error })
        deadLettered++
      }
    }
    const jobs = relayJobs(good)
    if (jobs.length > 0) await o.add(jobs)
    await o.connection.xdel(key, ...read.map(([id]) => id))
    if (good.length > 0) count = nextReadCount(scans, good.length, maxEntries)
    return { held, entries: read.length, scans, jobs: jobs.length, deadLettered }
  }

  /** passes until the log is empty (or another relay holds the lease): for operators and tests */
  const drain = async (): Promise<RelayPass> => {
    const total = { held: true, entries: 0, scans: 0, jobs: 0, deadLettered: 0 }
    for (;;) {
      const p = await pass(0)
      if (!p.held) return { ...total, held: false }
      if (p.entries === 0) return total
      total.entries += p.entries
      total.scans += p.scans
      total.jobs += p.jobs
      total.deadLettered += p.deadLettered
    }
  }

  const release = () => o.connection.eval(RELEASE, 1, leaseKey, owner).then(() => undefined)
  /** ends a blocked read at once (its pass fails; the entries stay in the log): on shutdown */
  const stop = () => o.reader.disconnect()

  return { pass, drain, release, stop, owner }
}

export type ScanRelay = ReturnType<typeof makeScanRelay>

/**
 * The relay's add: one job (the usual case) with `add`, more with `addBulk` (whose ioredis pipeline copies every one
 * of BullMQ's scripts onto itself: not worth it for one job).
 */
export const addJobsTo =
  (queue: Queue) =>
  (jobs: ReadonlyArray<Job>): Promise<unknown> => {
    const [only] = jobs
    return jobs.length === 1 && only !== undefined
      ? queue.add(only.name, only.data, only.opts)
      : queue.addBulk([...jobs])
  }

/** The relay on the Queues layer's connection (and a duplicate of it for the blocking read), in a scope. */
export const scanRelay = (options?: RelayOptions): Effect.Effect<ScanRelay, never, Queues | Scope.Scope> =>
  Effect.gen(function* () {
    const queues = yield* Queues
    const connection = yield* queues.connection.pipe(Effect.orDie)
    const scans = yield* queues.queue(queueFor(TaskNames.persistScanEvent)).pipe(Effect.orDie)
    const dlq = yield* queues.queue(DeadLetterQueue).pipe(Effect.orDie)
    const reader = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const r = connection.duplicate({ connectionName: `${connection.options.connectionName ?? "queue"}:scan-log` })
        r.on("error", () => {})
        return r
      }),
      (r) => Effect.sync(() => r.disconnect())
    )
    return makeScanRelay({
      connection,
      reader,
      prefix: queues.prefix,
      // one job (the usual case) with `add`: addBulk's pipeline copies every BullMQ script onto itself
      add: addJobsTo(scans),
      deadLetter: (l) =>
        addDeadLetterFor(dlq, {
          queue: "scans",
          name: TaskNames.persistScanEvent,
          jobId: safeJobId("log", l.entryId),
          data: l.raw,
          error: `scan log entry ${l.entryId}: ${l.error}`,
          attempts: 0,
          unrecoverable: true
        }),
      ...(options !== undefined ? { options } : {})
    })
  })

/**
 * Runs the relay for the life of the scope: a pass after another (each waits up to a second for entries); a failed
 * pass (Redis away) is logged and retried after a second, its entries still in the log. On scope end the relay stops
 * between passes and gives its lease up, so another process takes over at once.
 */
export const runScanRelay = (options?: RelayOptions) =>
  Effect.gen(function* () {
    const relay = yield* scanRelay(options)
    const stopping = yield* Deferred.make<void>()
    const loop = Effect.gen(function* () {
      while (!(yield* Deferred.isDone(stopping))) {
        const p = yield* Effect.tryPromise({
          try: () => relay.pass(),
          catch: dependencyFailed("relay the scan log")
        }).pipe(
          Effect.catchAll((e: TaskDependencyFailed) =>
            Effect.flatMap(Deferred.isDone(stopping), (stopped) =>
              stopped
                ? Effect.succeed(undefined)
                : Effect.as(Effect.logWarning(`scan log relay: ${e.message}`), undefined)
            )
          )
        )
        // not the holder, or Redis away: wait a second before asking again (at once on shutdown)
        if (p === undefined || !p.held)
          yield* Deferred.await(stopping).pipe(Effect.timeout(Duration.seconds(1)), Effect.ignore)
      }
    })
    const fiber = yield* Effect.forkDaemon(loop)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        // SIGTERM: a pass blocked on XREAD ends now, one moving entries finishes; then the lease goes
        yield* Deferred.succeed(stopping, undefined)
        relay.stop()
        yield* Fiber.await(fiber)
        yield* Effect.promise(() => relay.release().catch(() => undefined))
      })
    )
    return relay
  })

/**
 * The log relayed now until it is empty, then the lease given up (`npm run queues -- relay`, and tests that read the
 * `scans` queue while no orchestrator runs); `held: false` when a running relay holds the lease.
 */
export const relayScanLogOnce = (options?: RelayOptions) =>
  Effect.scoped(
    Effect.flatMap(scanRelay({ blockMs: 0, ...options }), (relay) =>
      Effect.promise(() => relay.drain().finally(() => relay.release()))
    )
  )
