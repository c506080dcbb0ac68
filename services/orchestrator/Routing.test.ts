import { describe, expect, it } from "vitest"
import { QueueNames } from "../../shared/layers/Queues.js"
import {
  backoffStrategy,
  JITTERED_EXPONENTIAL,
  jitteredDelay,
  jobOptionsFor,
  MAX_BACKOFF_MS,
  Routes,
  TaskNames
} from "./Routing.js"
import { orchestratorSettings } from "./Settings.js"
import { ConfigProvider, Effect } from "effect"

describe("routing table", () => {
  it("routes every task to one of the six queues, scans to `scans`", () => {
    for (const r of Object.values(Routes)) expect(QueueNames).toContain(r.queue)
    expect(Routes[TaskNames.persistScanEvent].queue).toBe("scans")
    expect(Routes[TaskNames.submitChainAnchor].queue).toBe("blockchain")
    expect(Routes[TaskNames.appendAuditEntry].queue).toBe("audit")
    expect(Routes[TaskNames.sendNotification].queue).toBe("notifications")
  })

  it("gives every job attempts and the jittered exponential backoff", () => {
    const o = jobOptionsFor(TaskNames.persistScanEvent, { jobId: "x" })
    expect(o).toMatchObject({ attempts: 5, backoff: { type: JITTERED_EXPONENTIAL, delay: 1000 }, jobId: "x" })
  })
})

describe("jittered exponential backoff", () => {
  it("stays within [ceiling/2, ceiling] of base·2^(n-1), capped", () => {
    expect(jitteredDelay(1, 1000, () => 0)).toBe(500)
    expect(jitteredDelay(1, 1000, () => 1)).toBe(1000)
    expect(jitteredDelay(4, 1000, () => 0)).toBe(4000)
    expect(jitteredDelay(4, 1000, () => 1)).toBe(8000)
    expect(jitteredDelay(40, 1000, () => 1)).toBe(MAX_BACKOFF_MS)
  })

  it("spreads retries of jobs failing together", async () => {
    // without a job the strategy uses a 1 s base
    const delays = await Promise.all(Array.from({ length: 50 }, () => backoffStrategy(3, JITTERED_EXPONENTIAL)))
    expect(new Set(delays).size).toBeGreaterThan(10)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(2000)
      expect(d).toBeLessThanOrEqual(4000)
    }
  })
})

describe("concurrency settings", () => {
  it("takes QUEUE_CONCURRENCY for every queue and QUEUE_CONCURRENCY_<QUEUE> for one", () => {
    const s = Effect.runSync(
      orchestratorSettings.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["QUEUE_CONCURRENCY", "6"],
              ["QUEUE_CONCURRENCY_SCANS", "2"],
              ["ORCHESTRATOR_ROLE", "beat"]
            ])
          )
        )
      )
    )
    expect(s.concurrency).toEqual({ default: 6, scans: 2, blockchain: 6, audit: 6, notifications: 6, priority: 6 })
    expect(s.role).toBe("beat")
  })
})
