import { SqlClient } from "@effect/sql"
import { Queue } from "bullmq"
import { Effect } from "effect"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { digitalLinkOf, type Harness, makeHarness, postJson, type Seed } from "./testing/ScanPathHarness.js"

/**
 * End to end: scans accepted by the gateway's API land in scan_events exactly once, also when every
 * job that carries them is delivered a second time (a copy under another job id, as after a crash
 * between the insert and the ack).
 */
let h: Harness
let seed: Seed
let gw: string

beforeAll(async () => {
  h = await makeHarness("exactly-once-itest")
  seed = await h.seed()
  gw = await h.startGateway(0, "inprocess")
})

afterAll(async () => {
  await h?.close()
})

const countsOf = (ids: ReadonlyArray<string>) =>
  h.run(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<{
          id: string
          n: string
        }>`SELECT id, count(*) AS n FROM scan_events WHERE id = ANY(${ids}::uuid[]) GROUP BY id`
    )
  )

describe("scan events, end to end", () => {
  it("every scan the API accepted is in scan_events exactly once, with every job delivered twice", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    const bodies = Array.from({ length: 40 }, (_, i) => ({
      tag: digitalLinkOf(i % 2 === 0 ? seed.owned : seed.unowned),
      context: { region: ["FR", "US", "JP", "DE"][i % 4] }
    }))
    // warm and cold, anonymous and signed in, concurrently (so several scans share a batch job)
    const answers = await Promise.all(
      bodies.map((b, i) => postJson(`${gw}/v1/scans`, b, i % 5 === 0 ? { authorization: `Bearer ${owner.token}` } : {}))
    )
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200))
    const ids = answers.map((a) => (a.json as { scanId: string }).scanId)

    // deliver every queued job twice before any worker runs (the log relayed into jobs first, as the
    // orchestrator's relay does)
    const relayed = await h.relayScanLog()
    expect(relayed.scans).toBe(ids.length)
    const conn = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
    const q = new Queue("scans", { connection: conn, prefix: h.prefix })
    try {
      const jobs = await q.getJobs(["waiting", "prioritized", "delayed"])
      expect(jobs.length).toBeGreaterThan(0)
      await q.addBulk(
        jobs.map((j) => ({ name: j.name, data: j.data, opts: { jobId: `${j.id}-redelivered`, attempts: 3 } }))
      )
      await h.startOrchestrator()
      const deadline = Date.now() + 30_000
      for (;;) {
        const waiting = await q.getJobCounts("waiting", "active", "delayed", "prioritized")
        const done = Object.values(waiting).every((n) => n === 0)
        if (done && (await countsOf(ids)).length === ids.length) break
        if (Date.now() > deadline) throw new Error(`not persisted in 30 s: ${JSON.stringify(waiting)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
      const counts = await countsOf(ids)
      expect(counts.map((c) => c.id).sort()).toEqual([...ids].sort())
      expect(counts.every((c) => Number(c.n) === 1)).toBe(true)
      expect(await q.getJobCounts("failed")).toEqual({ failed: 0 })
    } finally {
      await q.close()
      conn.disconnect()
    }
  })
})
