/**
 * An orchestrator worker as its own process, for the SIGTERM-drain and SIGKILL-crash tests.
 * Configured by env: DATABASE_URL, QUEUE_PREFIX, KEY_PREFIX, STREAM_PREFIX, QUEUES (comma list),
 * AUDIT_DELAY_MS (each stub audit append takes this long), AUDIT_CONCURRENCY, SCAN_BATCH, SCAN_LINGER_MS, SCAN_CONCURRENCY, SCAN_JOBS_IN_FLIGHT, LOCK_MS, STALLED_MS,
 * AUDIT=live (the real audit log on DATABASE_URL instead of the recording stub), TEST_CRASH_POINT.
 * Prints READY once its workers run.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { type QueueName, QueueNames } from "../../../shared/layers/Queues.js"
import { testConfig } from "../../../shared/testing/TestDatabase.js"
import { testSettings } from "../Settings.js"
import { newStubState, orchestratorStack } from "./TestStack.js"

const env = (k: string, fallback: string) => process.env[k] ?? fallback
const names = {
  databaseUrl: env("DATABASE_URL", ""),
  queuePrefix: env("QUEUE_PREFIX", "bmq_proc"),
  keyPrefix: env("KEY_PREFIX", "proc:"),
  streamPrefix: env("STREAM_PREFIX", "T_PROC")
}
const queues = env("QUEUES", "default")
  .split(",")
  .filter((q): q is QueueName => QueueNames.some((n) => n === q))
const stubs = { ...newStubState(), auditDelayMs: Number(env("AUDIT_DELAY_MS", "0")) }
const settings = testSettings({
  role: "worker",
  concurrency: {
    default: 1,
    scans: Number(env("SCAN_CONCURRENCY", "4")),
    blockchain: 1,
    audit: Number(env("AUDIT_CONCURRENCY", "4")),
    notifications: 1
  },
  scanBatchSize: Number(env("SCAN_BATCH", "500")),
  scanBatchLingerMs: Number(env("SCAN_LINGER_MS", "5")),
  scanJobsInFlight: Number(env("SCAN_JOBS_IN_FLIGHT", "256")),
  lockDurationMs: Number(env("LOCK_MS", "2000")),
  stalledIntervalMs: Number(env("STALLED_MS", "1000"))
})
const stack = orchestratorStack(
  names,
  testConfig({
    DATABASE_URL: names.databaseUrl,
    QUEUE_PREFIX: names.queuePrefix,
    ...(process.env.TEST_CRASH_POINT !== undefined ? { TEST_CRASH_POINT: process.env.TEST_CRASH_POINT } : {})
  }),
  settings,
  stubs,
  { queues, liveAudit: env("AUDIT", "stub") === "live" }
)

NodeRuntime.runMain(
  Effect.scoped(
    Effect.gen(function* () {
      yield* Layer.build(stack)
      process.stdout.write("READY\n")
      return yield* Effect.never
    })
  )
)
