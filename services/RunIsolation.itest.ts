import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Redis as IORedis } from "ioredis"
import { describe, expect, it } from "vitest"
import { startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"

/** the streams whose names start with a run's NATS_STREAM_PREFIX, with their subjects */
const streamsOf = async (streamPrefix: string): Promise<ReadonlyMap<string, ReadonlyArray<string>>> => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  try {
    const jsm = await jetstreamManager(nc)
    const out = new Map<string, ReadonlyArray<string>>()
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(`${streamPrefix}_`)) out.set(s.config.name, [...(s.config.subjects ?? [])].sort())
    }
    return out
  } finally {
    await nc.close()
  }
}

/** the run's streams once the named ones exist (services ensure them in the background after NATS answers) */
const waitForStreams = async (streamPrefix: string, names: ReadonlyArray<string>) => {
  for (let i = 0; ; i++) {
    const streams = await streamsOf(streamPrefix)
    if (names.every((n) => streams.has(`${streamPrefix}_${n}`)) || i >= 100) return streams
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** how many keys the machine's Redis holds under a prefix */
const keysUnder = async (prefix: string): Promise<number> => {
  const r = new IORedis("redis://127.0.0.1:6379")
  try {
    let [cursor, n] = ["0", 0]
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      cursor = next
      n += keys.length
    } while (cursor !== "0")
    return n
  } finally {
    await r.quit()
  }
}

describe("test runs sharing the machine's NATS and Redis (NATS_SUBJECT_PREFIX, the run's prefixes)", () => {
  it("two runs each capture their own subjects, none the platform's, and leave no stream or key behind", async () => {
    const runs: Array<TestPlatform> = []
    try {
      // policy and knowledge ensure the scan-path stream, the orchestrator the scan-event stream
      for (const label of ["subjects_a", "subjects_b"]) {
        runs.push(await startTestPlatform({ label, services: ["policy", "knowledge", "orchestrator"] }))
      }
      const prefixes = runs.map((r) => r.config.nats.subjectPrefix)
      expect(prefixes.every((p) => p !== "")).toBe(true)
      expect(new Set(prefixes).size).toBe(2)
      for (const run of runs) {
        const { streamPrefix, subjectPrefix } = run.config.nats
        const streams = await waitForStreams(streamPrefix, ["SCANPATH", "SCANS"])
        // before NATS_SUBJECT_PREFIX both runs' services claimed brandme.consent.changed & co.: the second run's
        // stream could not be made (subjects overlap) and its facts landed in the first run's stream
        expect(streams.get(`${streamPrefix}_SCANPATH`)).toEqual([
          `${subjectPrefix}.brandme.consent.changed`,
          `${subjectPrefix}.brandme.garment.updated`
        ])
        expect(streams.get(`${streamPrefix}_SCANS`)).toEqual([`${subjectPrefix}.brandme.scan.>`])
        // the orchestrator's queues and schedulers live under the run's queue prefix (deleted at close, below)
        expect(await keysUnder(`${run.config.queues.prefix}:`)).toBeGreaterThan(0)
        for (const [name, subjects] of streams) {
          for (const s of subjects) expect(s.startsWith(`${subjectPrefix}.`), `${name} captures ${s}`).toBe(true)
        }
      }
    } finally {
      for (const run of runs) await run.close()
    }
    expect(runs).toHaveLength(2)
    for (const run of runs) {
      // the orchestrator's queues and schedulers were written under the run's queue prefix
      expect(await keysUnder(`${run.config.queues.prefix}:`)).toBe(0)
      expect(await keysUnder(run.config.redis.keyPrefix)).toBe(0)
      // closing a run deletes its streams: nothing of either is left to capture a subject
      expect((await streamsOf(run.config.nats.streamPrefix)).size).toBe(0)
    }
  })
})
