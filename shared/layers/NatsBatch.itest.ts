import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { uniqueId } from "../testing/TestDatabase.js"
import { makeNatsLayer, Nats } from "./Nats.js"

/** Nats.publishBatch on the real JetStream: acks in order, Msg-Id dedupe, refusal without a stream. */
const id = uniqueId("natsb").replace(/[^a-z0-9]/gi, "_")
const stream = `T_${id.toUpperCase()}`
const subject = `${id}.batch.x`

const run = <A, E>(program: Effect.Effect<A, E, Nats>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.provide(program, makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: stream, name: "natsb" }))
    )
  )

beforeAll(async () => {
  await run(Effect.flatMap(Nats, (n) => n.ensureStream(stream, [`${id}.batch.>`])))
})

afterAll(async () => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false)
  await nc.close()
})

describe("Nats.publishBatch", () => {
  it("stores every message, acks them in order, and drops repeats by Nats-Msg-Id", async () => {
    const messages = Array.from({ length: 500 }, (_, i) => ({
      subject,
      data: JSON.stringify({ i }),
      headers: { "Nats-Msg-Id": `${id}-${i}` }
    }))
    const [first, again, none] = await run(
      Effect.flatMap(Nats, (n) =>
        Effect.all([n.publishBatch(messages), n.publishBatch(messages.slice(0, 100)), n.publishBatch([])])
      )
    )
    expect(first).toHaveLength(500)
    expect(first?.every((a) => !a.duplicate)).toBe(true)
    const seqs = first?.map((a) => a.seq) ?? []
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(500)
    expect(again?.every((a) => a.duplicate)).toBe(true)
    expect(none).toEqual([])
    const nc = await connect({ servers: "127.0.0.1:4222" })
    const info = await (await jetstreamManager(nc)).streams.info(stream)
    await nc.close()
    expect(info.state.messages).toBe(500)
  })

  it("fails (so the job retries) when no stream captures the subject", async () => {
    const r = await run(
      Effect.either(
        Effect.flatMap(Nats, (n) => n.publishBatch([{ subject: `${id}.nostream.x`, data: "{}" }], { timeoutMs: 3000 }))
      )
    )
    expect(r._tag).toBe("Left")
    if (r._tag === "Left") expect(r.left).toMatchObject({ _tag: "DependencyError", operation: "publishBatch" })
    if (r._tag === "Left") expect(r.left.message).toMatch(/503|no responders|not acked/i)
  })
})
