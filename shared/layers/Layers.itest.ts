import { SqlClient } from "@effect/sql"
import { Worker } from "bullmq"
import { Deferred, Effect, Layer, Schedule } from "effect"
import { Redis as IORedis } from "ioredis"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase, type TestDatabase, uniqueId } from "../testing/TestDatabase.js"
import { Database, makeDatabaseLayer } from "./Database.js"
import { makeNatsLayer, Nats } from "./Nats.js"
import { makeQueuesLayer, Queues } from "./Queues.js"
import { makeRedisLayer, Redis } from "./Redis.js"

/** One test per layer against its real server, each isolated (own db, key prefix, stream, queue prefix). */
describe("layers against the real servers", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase("layers")
  })
  afterAll(async () => {
    await db.drop()
  })

  it("Database: runs a query and reports pool use", async () => {
    const layer = makeDatabaseLayer({
      url: db.url,
      poolMax: 3,
      idleTimeoutMs: 1000,
      connectTimeoutMs: 3000,
      ssl: "disable",
      applicationName: "layers-test"
    })
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const database = yield* Database
        yield* database.ping
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM scan_events`
        const name = yield* sql<{ db: string }>`SELECT current_database() AS db`
        return { rows, name: name[0]?.db, stats: database.poolStats() }
      }).pipe(Effect.provide(layer))
    )
    expect(result.rows).toEqual([{ n: 0 }])
    expect(result.name).toBe(db.name)
    expect(result.stats.max).toBe(3)
    expect(result.stats.total).toBeGreaterThanOrEqual(1)
  })

  /** runs `f` with the Redis layer under a key prefix of its own */
  const withRedis = <A>(f: (prefix: string) => Effect.Effect<A, unknown, Redis>) => {
    const prefix = `${uniqueId("test")}:`
    const layer = makeRedisLayer({ url: "redis://127.0.0.1:6379", keyPrefix: prefix, connectionName: "layers-test" })
    return Effect.runPromise(f(prefix).pipe(Effect.provide(layer)))
  }

  it("Redis: SET/GET under the run's key prefix, with TTL", async () => {
    const out = await withRedis((prefix) =>
      Effect.gen(function* () {
        const redis = yield* Redis
        yield* redis.set("greeting", "hello", 60)
        const value = yield* redis.get("greeting")
        const raw = yield* redis.cache
        const ttl = yield* Effect.promise(() => raw.ttl(`${prefix}greeting`))
        const deleted = yield* redis.del("greeting")
        return { value, ttl, deleted, after: yield* redis.get("greeting") }
      })
    )
    expect(out.value).toBe("hello")
    expect(out.ttl).toBeGreaterThan(0)
    expect(out.ttl).toBeLessThanOrEqual(60)
    expect(out.deleted).toBe(1)
    expect(out.after).toBeNull()
  })

  it("Redis: the commands of one event-loop tick go to the server in one write, each with its own reply", async () => {
    const out = await withRedis(() =>
      Effect.gen(function* () {
        const redis = yield* Redis
        const raw = yield* redis.cache
        yield* Effect.promise(() => raw.ping())
        // count the socket writes the client makes while 50 concurrent requests read and write
        const stream = (raw as unknown as { stream: { write: (...a: Array<unknown>) => boolean } }).stream
        const write = stream.write.bind(stream)
        let writes = 0
        stream.write = (...a) => {
          writes++
          return write(...a)
        }
        const replies = yield* Effect.promise(() =>
          Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              raw.set(redis.key(`k${i}`), `v${i}`, "EX", 60).then(() => raw.get(redis.key(`k${i}`)))
            )
          )
        )
        stream.write = write
        yield* redis.del(...Array.from({ length: 50 }, (_, i) => `k${i}`))
        return { replies, writes }
      })
    )
    expect(out.replies).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`))
    // 50 SETs issued in one tick, then their 50 GETs as the replies come in: a write per tick, not per command
    expect(out.writes).toBeGreaterThanOrEqual(2)
    expect(out.writes).toBeLessThanOrEqual(10)
  })

  it("Redis: cacheLater sends its entries without waiting for replies; a read after it on the client sees them", async () => {
    const out = await withRedis((prefix) =>
      Effect.gen(function* () {
        const redis = yield* Redis
        const raw = yield* redis.cache
        yield* Effect.promise(() => raw.ping())
        // the replies have not come back when cacheLater returns: nothing is pending on them
        yield* redis.cacheLater(
          [
            ["one", "1"],
            ["two", "2"]
          ],
          60
        )
        yield* redis.cacheLater([["three", "3"]], 30)
        yield* redis.cacheLater([], 30)
        // the same connection runs commands in order: these reads come after the writes
        const values = yield* Effect.promise(() => raw.mget(redis.key("one"), redis.key("two"), redis.key("three")))
        const ttls = yield* Effect.promise(() => Promise.all([raw.ttl(`${prefix}one`), raw.ttl(`${prefix}three`)]))
        yield* redis.del("one", "two", "three")
        return { values, ttls }
      })
    )
    expect(out.values).toEqual(["1", "2", "3"])
    expect(out.ttls[0]).toBeGreaterThan(30)
    expect(out.ttls[0]).toBeLessThanOrEqual(60)
    expect(out.ttls[1]).toBeGreaterThan(0)
    expect(out.ttls[1]).toBeLessThanOrEqual(30)
  })

  it("Redis: cacheLater returns before Redis has answered, and a Redis that is down fails nothing", async () => {
    const out = await withRedis(() =>
      Effect.gen(function* () {
        const redis = yield* Redis
        const raw = yield* redis.cache
        // another connection holds the server's writes for a moment (reads still answer)
        const other = raw.duplicate()
        yield* Effect.promise(() => other.call("CLIENT", "PAUSE", "500", "WRITE"))
        yield* redis.cacheLater([["paused", "v"]], 60)
        // cacheLater came back while its SET was held: had it waited for the reply, the value would be there
        const during = yield* Effect.promise(() => other.get(redis.key("paused")))
        yield* Effect.promise(() => other.call("CLIENT", "UNPAUSE"))
        const after = yield* Effect.promise(() => raw.get(redis.key("paused")))
        yield* redis.del("paused")
        other.disconnect()
        return { during, after }
      })
    )
    expect(out).toEqual({ during: null, after: "v" })
    // unreachable: the write is given up quietly (an unhandled rejection would fail this run)
    const down = makeRedisLayer({
      url: "redis://127.0.0.1:1",
      keyPrefix: `${uniqueId("test")}:`,
      connectionName: "down"
    })
    await Effect.runPromise(
      Effect.flatMap(Redis, (redis) => redis.cacheLater([["k", "v"]], 60)).pipe(Effect.provide(down))
    )
  })

  it("Nats: JetStream publish + durable consume + ack", async () => {
    const stream = uniqueId("TEST").toUpperCase()
    const subject = `test.${stream.toLowerCase()}.event`
    const layer = makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: stream, name: "layers-test" })
    const received = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nats = yield* Nats
          // the connection is made in the background; wait until it answers
          yield* nats.ping.pipe(Effect.retry({ times: 50, schedule: Schedule.spaced("100 millis") }))
          yield* nats.ensureStream(stream, [`test.${stream.toLowerCase()}.>`])
          yield* nats.publish(subject, JSON.stringify({ n: 1 }), { traceparent: "00-abc-def-01" })
          yield* nats.publish(subject, JSON.stringify({ n: 2 }))
          const got: Array<{ n: number; tp: string | undefined }> = []
          const done = yield* Deferred.make<void>()
          yield* nats.consume({
            stream,
            durable: "layers-test",
            handler: (m) =>
              Effect.sync(() => {
                const body = JSON.parse(new TextDecoder().decode(m.data)) as { n: number }
                got.push({ n: body.n, tp: m.headers.traceparent })
              }).pipe(Effect.zipRight(got.length >= 1 ? Deferred.succeed(done, undefined) : Effect.void))
          })
          yield* Deferred.await(done).pipe(Effect.timeout("10 seconds"))
          yield* Effect.sleep("300 millis")
          return got
        }).pipe(Effect.provide(layer))
      )
    )
    expect(received.map((r) => r.n)).toEqual([1, 2])
    expect(received[0]?.tp).toBe("00-abc-def-01")
    // both messages were acked: the durable consumer has nothing pending
    const nc = await connect({ servers: "127.0.0.1:4222" })
    try {
      const jsm = await jetstreamManager(nc)
      const info = await jsm.consumers.info(stream, "layers-test")
      expect(info.num_ack_pending).toBe(0)
      expect(info.num_pending).toBe(0)
      expect(info.delivered.consumer_seq).toBe(2)
      await jsm.streams.delete(stream)
    } finally {
      await nc.close()
    }
  })

  it("Queues: a BullMQ job added through the layer is processed by a worker", async () => {
    const prefix = uniqueId("bmqtest")
    const layer = makeQueuesLayer({ url: "redis://127.0.0.1:6379", prefix, name: "layers-test" })
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const queues = yield* Queues
          const connection = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
          const processed: Array<unknown> = []
          const worker = new Worker(
            "default",
            async (job) => {
              processed.push(job.data)
              return { ok: true }
            },
            { connection, prefix }
          )
          yield* Effect.addFinalizer(() =>
            Effect.promise(async () => {
              await worker.close()
              connection.disconnect()
            })
          )
          const { id } = yield* queues.add("default", "layer_test", { hello: "world" }, { jobId: "job-1" })
          const queue = yield* queues.queue("default")
          const job = yield* Effect.promise(() => queue.getJob(id))
          const state = yield* Effect.promise(async () => {
            for (let i = 0; i < 100; i++) {
              const s = await job!.getState()
              if (s === "completed") return s
              await new Promise((r) => setTimeout(r, 50))
            }
            return "timeout"
          })
          yield* Effect.promise(() => queue.obliterate({ force: true }))
          return { id, state, processed }
        }).pipe(Effect.provide(Layer.fresh(layer)))
      )
    )
    expect(result.id).toBe("job-1")
    expect(result.state).toBe("completed")
    expect(result.processed).toEqual([{ hello: "world" }])
  })
})
