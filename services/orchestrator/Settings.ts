import { Config, Context, Effect, Layer, Option } from "effect"
import { MaxScansPerJob } from "../../shared/domain/Scan.js"
import { type QueueName, QueueNames } from "../../shared/layers/Queues.js"
import { StartupError } from "../../shared/runtime/Process.js"

/**
 * Orchestrator settings read through Effect Config (names beside AppConfig's QUEUE_* ones).
 * Concurrency: QUEUE_CONCURRENCY for every queue, QUEUE_CONCURRENCY_<QUEUE> overrides one queue.
 * On `scans` the concurrency counts batches (INSERTs) in flight; each batch holds up to QUEUE_SCAN_BATCH_SIZE
 * scans, gathered from up to QUEUE_SCAN_JOBS_IN_FLIGHT jobs held at once.
 */
export type OrchestratorRole = "worker" | "beat" | "all"

export interface OrchestratorSettingsShape {
  readonly role: OrchestratorRole
  readonly concurrency: Readonly<Record<QueueName, number>>
  readonly scanBatchSize: number
  readonly scanBatchLingerMs: number
  /** persist_scan_event jobs the scans worker holds at once (each one scan or a batch of them) */
  readonly scanJobsInFlight: number
  readonly lockDurationMs: number
  readonly stalledIntervalMs: number
  readonly maxStalledCount: number
  readonly depthPollMs: number
  readonly scanRetentionDays: number
  readonly notificationRetentionDays: number
  /** scheduler intervals (ms) */
  readonly every: {
    readonly cleanup: number
    readonly integrity: number
    readonly chainSync: number
    readonly checkpoint: number
  }
  readonly webhookTimeoutMs: number
}

const positive = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  Config.integer(name).pipe(
    Config.validate({
      message: `must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ""}`,
      validation: (n) => n > 0 && n <= max
    }),
    Config.withDefault(fallback)
  )

const perQueue = Config.all(
  Object.fromEntries(
    QueueNames.map(
      (q) =>
        [
          q,
          Config.option(
            Config.integer(`QUEUE_CONCURRENCY_${q.toUpperCase()}`).pipe(
              Config.validate({
                message: "must be a positive integer of at most 1000",
                validation: (n) => n > 0 && n <= 1000
              })
            )
          )
        ] as const
    )
  )
)

export const orchestratorSettings: Config.Config<OrchestratorSettingsShape> = Config.all({
  role: Config.literal("worker", "beat", "all")("ORCHESTRATOR_ROLE").pipe(Config.withDefault("all")),
  base: positive("QUEUE_CONCURRENCY", 4, 1000),
  perQueue,
  // scans per INSERT; a batch job bigger than this (up to MaxScansPerJob) is written alone
  scanBatchSize: positive("QUEUE_SCAN_BATCH_SIZE", 1000, 10 * MaxScansPerJob),
  // bounds the scans held in memory (and drained on SIGTERM): at most this many jobs × their scans
  scanJobsInFlight: positive("QUEUE_SCAN_JOBS_IN_FLIGHT", 256, 10_000),
  scanBatchLingerMs: Config.integer("QUEUE_SCAN_BATCH_LINGER_MS").pipe(
    Config.validate({ message: "must be an integer from 0 to 1000", validation: (n) => n >= 0 && n <= 1000 }),
    Config.withDefault(5)
  ),
  // recovery in seconds (docs/orchestrator.md, "Recovery"): a dead worker's job is back within
  // lock + stalled interval = 2.5 s, leaving 2.5 s of the 5 s goal to a busy machine's timer delays; the lock
  // is renewed every lock/2 = 1 s, so an event-loop stall under 1 s never loses a live job (and a lost one
  // only runs twice, which every effect absorbs)
  lockDurationMs: positive("QUEUE_LOCK_DURATION_MS", 2_000),
  stalledIntervalMs: positive("QUEUE_STALLED_INTERVAL_MS", 500),
  // a job that stalls this often (its worker died with it each time) is a poison pill: dead letters
  maxStalledCount: positive("QUEUE_MAX_STALLED_COUNT", 10),
  depthPollMs: positive("QUEUE_DEPTH_POLL_MS", 15_000),
  scanRetentionDays: positive("SCAN_RETENTION_DAYS", 365),
  notificationRetentionDays: positive("NOTIFICATION_RETENTION_DAYS", 90),
  cleanup: positive("BEAT_CLEANUP_EVERY_MS", 60 * 60_000),
  integrity: positive("BEAT_AUDIT_INTEGRITY_EVERY_MS", 6 * 60 * 60_000),
  chainSync: positive("BEAT_CHAIN_SYNC_EVERY_MS", 60_000),
  checkpoint: positive("BEAT_CHECKPOINT_EVERY_MS", 10 * 60_000),
  webhookTimeoutMs: positive("WEBHOOK_TIMEOUT_MS", 5_000)
}).pipe(
  Config.map((c) => {
    const pick = (q: QueueName) => Option.getOrElse(c.perQueue[q] ?? Option.none<number>(), () => c.base)
    const concurrency: Record<QueueName, number> = {
      default: pick("default"),
      scans: pick("scans"),
      blockchain: pick("blockchain"),
      audit: pick("audit"),
      notifications: pick("notifications"),
      priority: pick("priority")
    }
    return {
      role: c.role,
      concurrency,
      scanBatchSize: c.scanBatchSize,
      scanBatchLingerMs: c.scanBatchLingerMs,
      scanJobsInFlight: c.scanJobsInFlight,
      lockDurationMs: c.lockDurationMs,
      stalledIntervalMs: c.stalledIntervalMs,
      maxStalledCount: c.maxStalledCount,
      depthPollMs: c.depthPollMs,
      scanRetentionDays: c.scanRetentionDays,
      notificationRetentionDays: c.notificationRetentionDays,
      every: { cleanup: c.cleanup, integrity: c.integrity, chainSync: c.chainSync, checkpoint: c.checkpoint },
      webhookTimeoutMs: c.webhookTimeoutMs
    }
  })
)

export class OrchestratorSettings extends Context.Tag("brandme/orchestrator/Settings")<
  OrchestratorSettings,
  OrchestratorSettingsShape
>() {
  /** a bad QUEUE_* / BEAT_* value stops the process at start with one message naming the variable */
  static readonly layer = Layer.effect(
    OrchestratorSettings,
    orchestratorSettings.pipe(
      Effect.catchTag("ConfigError", (e) =>
        Effect.die(new StartupError(`invalid orchestrator configuration: ${String(e)}`))
      )
    )
  )
  static readonly layerWith = (s: OrchestratorSettingsShape) => Layer.succeed(OrchestratorSettings, s)
}

/** Settings for tests: everything small and fast. */
export const testSettings = (overrides: Partial<OrchestratorSettingsShape> = {}): OrchestratorSettingsShape => ({
  role: "all",
  concurrency: { default: 4, scans: 4, blockchain: 2, audit: 4, notifications: 4, priority: 4 },
  scanBatchSize: 200,
  scanBatchLingerMs: 5,
  scanJobsInFlight: 256,
  lockDurationMs: 5_000,
  stalledIntervalMs: 1_000,
  maxStalledCount: 5,
  depthPollMs: 60_000,
  scanRetentionDays: 365,
  notificationRetentionDays: 90,
  every: { cleanup: 3_600_000, integrity: 3_600_000, chainSync: 3_600_000, checkpoint: 3_600_000 },
  webhookTimeoutMs: 2_000,
  ...overrides
})
