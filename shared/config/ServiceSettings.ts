import { Config, Option, Redacted } from "effect"
import { MaxScansPerJob } from "../domain/Scan.js"
import { type QueueName, QueueNames } from "../layers/QueueNames.js"

/**
 * The settings only some services read (AppConfig composes them with the common ones): the orchestrator's
 * queues and schedules (QUEUE_*, BEAT_*, ORCHESTRATOR_ROLE, retention), agentic's detector windows
 * (AGENTIC_*), the chain adapter (CHAIN_*, BLOCKFROST_*, OGMIOS_URL). Each bad value is refused at start
 * with a message naming its variable; which service reads which is declared in shared/ServiceCatalog.ts.
 */

export const DEV_CHAIN_SIGNING_KEY = "dev-only-insecure-chain-key"

/** a positive integer (of at most `max`), with a message naming the variable */
const positive = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  Config.integer(name).pipe(
    Config.validate({
      message: `${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ""}`,
      validation: (n) => n > 0 && n <= max
    }),
    Config.withDefault(fallback)
  )

const perQueue = Config.all(
  Object.fromEntries(
    QueueNames.map((q) => {
      const name = `QUEUE_CONCURRENCY_${q.toUpperCase()}`
      return [
        q,
        Config.option(
          Config.integer(name).pipe(
            Config.validate({
              message: `${name} must be a positive integer of at most 1000`,
              validation: (n) => n > 0 && n <= 1000
            })
          )
        )
      ] as const
    })
  )
)

/**
 * The orchestrator. Concurrency: QUEUE_CONCURRENCY for every queue, QUEUE_CONCURRENCY_<QUEUE> overrides one
 * queue. On `scans` the concurrency counts batches (INSERTs) in flight; each batch holds up to
 * QUEUE_SCAN_BATCH_SIZE scans, gathered from up to QUEUE_SCAN_JOBS_IN_FLIGHT jobs held at once.
 */
export const orchestratorConfig = Config.all({
  role: Config.literal("worker", "beat", "all")("ORCHESTRATOR_ROLE").pipe(Config.withDefault("all")),
  base: positive("QUEUE_CONCURRENCY", 4, 1000),
  perQueue,
  // scans per INSERT; a batch job bigger than this (up to MaxScansPerJob) is written alone
  scanBatchSize: positive("QUEUE_SCAN_BATCH_SIZE", 1000, 10 * MaxScansPerJob),
  // bounds the scans held in memory (and drained on SIGTERM): at most this many jobs × their scans
  scanJobsInFlight: positive("QUEUE_SCAN_JOBS_IN_FLIGHT", 256, 10_000),
  scanBatchLingerMs: Config.integer("QUEUE_SCAN_BATCH_LINGER_MS").pipe(
    Config.validate({
      message: "QUEUE_SCAN_BATCH_LINGER_MS must be an integer from 0 to 1000",
      validation: (n) => n >= 0 && n <= 1000
    }),
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
  notificationRetentionDays: positive("NOTIFICATION_RETENTION_DAYS", 90),
  cleanup: positive("BEAT_CLEANUP_EVERY_MS", 60 * 60_000),
  integrity: positive("BEAT_AUDIT_INTEGRITY_EVERY_MS", 6 * 60 * 60_000),
  chainSync: positive("BEAT_CHAIN_SYNC_EVERY_MS", 60_000),
  checkpoint: positive("BEAT_CHECKPOINT_EVERY_MS", 10 * 60_000),
  webhookTimeoutMs: positive("WEBHOOK_TIMEOUT_MS", 5_000)
}).pipe(
  Config.map((c) => {
    const pick = (q: QueueName) => Option.getOrElse(c.perQueue[q] ?? Option.none<number>(), () => c.base)
    const concurrency: Readonly<Record<QueueName, number>> = {
      default: pick("default"),
      scans: pick("scans"),
      blockchain: pick("blockchain"),
      audit: pick("audit"),
      notifications: pick("notifications")
    }
    return {
      role: c.role,
      concurrency,
      scanBatchSize: c.scanBatchSize,
      scanBatchLingerMs: c.scanBatchLingerMs,
      /** persist_scan_event jobs the scans worker holds at once (each one scan or a batch of them) */
      scanJobsInFlight: c.scanJobsInFlight,
      lockDurationMs: c.lockDurationMs,
      stalledIntervalMs: c.stalledIntervalMs,
      maxStalledCount: c.maxStalledCount,
      depthPollMs: c.depthPollMs,
      notificationRetentionDays: c.notificationRetentionDays,
      /** scheduler intervals (ms) */
      every: { cleanup: c.cleanup, integrity: c.integrity, chainSync: c.chainSync, checkpoint: c.checkpoint },
      webhookTimeoutMs: c.webhookTimeoutMs
    }
  })
)

/**
 * agentic's pattern windows: a clone is the same serial scanned from two countries within
 * AGENTIC_CLONE_WINDOW_SECONDS; a burst is AGENTIC_FAILED_AUTH_THRESHOLD denied authenticity checks of one
 * garment within AGENTIC_FAILED_AUTH_WINDOW_SECONDS.
 */
export const agenticConfig = Config.all({
  cloneWindowSeconds: positive("AGENTIC_CLONE_WINDOW_SECONDS", 600),
  failedAuthThreshold: positive("AGENTIC_FAILED_AUTH_THRESHOLD", 5),
  failedAuthWindowSeconds: positive("AGENTIC_FAILED_AUTH_WINDOW_SECONDS", 300)
})

/**
 * The chain adapter (the chain service and the orchestrator's anchoring). CHAIN_SIGNING_KEY is hex: 64 hex
 * chars = a normal Ed25519 private key (the 32-byte seed, as in cardano-cli's `PaymentSigningKeyShelley_ed25519`
 * cborHex minus its `5820` prefix) or 128 hex chars = an extended Ed25519 key (kL‖kR, as derived from a
 * BIP32-Ed25519 wallet). The development default (refused outside development) is expanded to a deterministic,
 * publicly known — therefore insecure — key.
 */
export const chainConfig = Config.all({
  provider: Config.literal("local", "blockfrost", "ogmios")("CHAIN_PROVIDER").pipe(Config.withDefault("local")),
  network: Config.literal("preprod", "preview", "mainnet")("CHAIN_NETWORK").pipe(Config.withDefault("preprod")),
  signingKey: Config.redacted("CHAIN_SIGNING_KEY").pipe(Config.withDefault(Redacted.make(DEV_CHAIN_SIGNING_KEY))),
  blockfrostProjectId: Config.option(Config.redacted("BLOCKFROST_PROJECT_ID")),
  blockfrostUrl: Config.option(Config.string("BLOCKFROST_URL")),
  ogmiosUrl: Config.string("OGMIOS_URL").pipe(Config.withDefault("http://127.0.0.1:1337")),
  localConfirmMs: Config.integer("CHAIN_LOCAL_CONFIRM_MS").pipe(
    Config.validate({ message: "CHAIN_LOCAL_CONFIRM_MS must be 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(2000)
  )
})
