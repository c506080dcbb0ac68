import { describe, expect, it } from "vitest"
import { failures, formatReport, runChaos } from "./chaos/Chaos.js"

/**
 * The chaos run, small (`npm run chaos -- --scans 100000` is the same script, longer): private Postgres,
 * Redis and NATS; the gateway and two orchestrators as processes; five kill -9s of an orchestrator (each
 * while scan jobs are active), a queue Redis restart, a Postgres restart and a NATS kill -9 during the load.
 */
describe("chaos", () => {
  it("every accepted scan: one row, one audit leaf, one message; checkpoints match; dead workers' jobs back within 5 s", async () => {
    const r = await runChaos({ scans: 1500, rate: 50, kills: 5, log: () => undefined })
    process.stdout.write(`${formatReport(r)}\n`)
    expect(r.accepted).toBeGreaterThan(0)
    expect(r.recoveries.filter((x) => x.kind === "worker").length).toBeGreaterThanOrEqual(5)
    expect(r.checkpoints).toBeGreaterThan(0)
    expect(failures(r)).toEqual([])
    expect(r.persisted).toBe(r.accepted)
    expect(r.auditLeaves).toBe(r.accepted)
    // one message per scan; a repeat only past the duplicate window (the stated rule), none within it
    expect(r.messages - r.repeatsPastWindow).toBe(r.accepted)
    expect(r.repeatsWithinWindow).toBe(0)
    // no scan's persist or audit job gave up
    expect(r.deadLetters.persist_scan_event ?? 0).toBe(0)
    expect(r.deadLetters.append_audit_entry ?? 0).toBe(0)
  }, 900_000)
})
