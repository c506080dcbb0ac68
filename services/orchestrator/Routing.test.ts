import { describe, expect, it } from "vitest"
import { QueueNames } from "../../shared/layers/Queues.js"
import {
  backoffStrategy,
  JITTERED_EXPONENTIAL,
  jitteredDelay,
  jobOptionsFor,
  MAX_BACKOFF_MS,
  persistScanJobs,
  Routes,
  TaskNames
} from "./Routing.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { orchestratorConfig as orchestratorSettings } from "../../shared/config/ServiceSettings.js"
import { ConfigProvider, Effect } from "effect"
import { MaxScansPerJob } from "../../shared/domain/Scan.js"

describe("routing table", () => {
  it("routes every task to one of the five queues, scans to `scans`", () => {
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
    expect(s.concurrency).toEqual({ default: 6, scans: 2, blockchain: 6, audit: 6, notifications: 6 })
    expect(s.role).toBe("beat")
  })

  it("refuses bad values with a message naming the variable", () => {
    const read = (env: Record<string, string>) =>
      Effect.runSync(
        Effect.either(
          orchestratorSettings.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
        )
      )
    for (const [name, value, problem] of [
      ["QUEUE_CONCURRENCY", "four", /QUEUE_CONCURRENCY/],
      ["QUEUE_CONCURRENCY_SCANS", "0", /QUEUE_CONCURRENCY_SCANS.*positive integer/],
      ["QUEUE_SCAN_BATCH_SIZE", "-5", /QUEUE_SCAN_BATCH_SIZE.*positive integer/],
      ["QUEUE_SCAN_BATCH_LINGER_MS", "-1", /QUEUE_SCAN_BATCH_LINGER_MS.*from 0 to 1000/],
      ["BEAT_CLEANUP_EVERY_MS", "1.5", /BEAT_CLEANUP_EVERY_MS/],
      ["ORCHESTRATOR_ROLE", "boss", /ORCHESTRATOR_ROLE/]
    ] as const) {
      const r = read({ [name]: value })
      expect(r._tag, name).toBe("Left")
      if (r._tag === "Left") expect(String(r.left)).toMatch(problem)
    }
    expect(read({})._tag).toBe("Right")
  })

  it("stops the process at start: AppConfig refuses the value, naming the variable", () => {
    // runProcess turns this ConfigError into one StartupError line ("invalid configuration: …"), never a stack trace
    const loaded = Effect.runSync(
      Effect.either(
        AppConfig.load.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["QUEUE_SCAN_BATCH_SIZE", "lots"]])))
        )
      )
    )
    expect(loaded._tag).toBe("Left")
    if (loaded._tag === "Left") expect(String(loaded.left)).toMatch(/QUEUE_SCAN_BATCH_SIZE/)
  })
})

describe("scan job producer", () => {
  it("puts the scans of one turn in one job, split past MaxScansPerJob, with the route's retry policy", () => {
    const scan = (i: number) => ({
      scanId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      garmentId: "00000000-0000-4000-8000-000000000000",
      scannerUserId: null,
      deviceId: null,
      role: "public" as const,
      intent: "public_view" as const,
      regionCode: "FR",
      decision: { regime: "gdpr" as const, policyVersion: "1", allowed: [], denied: [] },
      scannedAt: "2026-01-01T00:00:00.000Z"
    })
    const jobs = persistScanJobs(Array.from({ length: MaxScansPerJob + 1 }, (_, i) => scan(i)))
    expect(jobs.map((j) => j.data.scans.length)).toEqual([MaxScansPerJob, 1])
    expect(jobs[0]).toMatchObject({
      name: TaskNames.persistScanEvent,
      opts: { jobId: `scans-${scan(0).scanId}`, attempts: 5, backoff: { type: JITTERED_EXPONENTIAL, delay: 1000 } }
    })
    expect(jobs[1]?.opts.jobId).toBe(`scans-${scan(MaxScansPerJob).scanId}`)
    expect(persistScanJobs([])).toEqual([])
  })
})
