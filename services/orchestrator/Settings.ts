import { Context, Effect, Layer } from "effect"
import { AppConfig, type AppConfigShape } from "../../shared/config/AppConfig.js"

/**
 * The orchestrator's settings (QUEUE_*, BEAT_*, ORCHESTRATOR_ROLE, retention, webhook timeout), read and
 * checked with every other setting in AppConfig (shared/config/ServiceSettings.ts); SCAN_RETENTION_DAYS is the
 * privacy setting compliance reads too.
 */
export type OrchestratorSettingsShape = AppConfigShape["orchestrator"] & { readonly scanRetentionDays: number }
export type OrchestratorRole = OrchestratorSettingsShape["role"]

export const orchestratorSettingsOf = (c: AppConfigShape): OrchestratorSettingsShape => ({
  ...c.orchestrator,
  scanRetentionDays: c.privacy.scanRetentionDays
})

export class OrchestratorSettings extends Context.Tag("brandme/orchestrator/Settings")<
  OrchestratorSettings,
  OrchestratorSettingsShape
>() {
  /** a bad QUEUE_* / BEAT_* value stops the process at start (AppConfig), naming the variable */
  static readonly layer = Layer.effect(OrchestratorSettings, Effect.map(AppConfig, orchestratorSettingsOf))
  static readonly layerWith = (s: OrchestratorSettingsShape) => Layer.succeed(OrchestratorSettings, s)
}

/** Settings for tests: everything small and fast. */
export const testSettings = (overrides: Partial<OrchestratorSettingsShape> = {}): OrchestratorSettingsShape => ({
  role: "all",
  concurrency: { default: 4, scans: 4, blockchain: 2, audit: 4, notifications: 4 },
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
