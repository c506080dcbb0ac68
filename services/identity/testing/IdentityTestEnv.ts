import { randomBytes } from "node:crypto"
import { createServer } from "node:net"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { ConfigProvider, Effect, Exit, Layer, Scope } from "effect"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { migrateUp } from "../../../migrations/Migrator.js"
import { loadDemoData } from "../../../scripts/DemoData.js"
import { AppConfig, appConfig } from "../../../shared/config/AppConfig.js"
import { dropDatabase, ensureDatabase } from "../../../shared/layers/Admin.js"
import { makeDatabaseLayer } from "../../../shared/layers/Database.js"
import { makeNatsLayer } from "../../../shared/layers/Nats.js"
import { makeQueuesLayer } from "../../../shared/layers/Queues.js"
import { makeRedisLayer } from "../../../shared/layers/Redis.js"
import { Services } from "../../../shared/ServiceCatalog.js"
import { makeGarmentEventsLive } from "../GarmentEvents.js"
import { makeIdentityHttp, makeIdentityServices } from "../Http.js"
import { ServiceTokenHeader } from "../../../shared/auth/ServiceTokens.js"
import { serviceToken } from "../../../shared/testing/TestTokens.js"

/**
 * Integration tests only: identity served over HTTP on real Postgres/Redis/NATS, isolated per test
 * file — its own database `brandme_t_<random>` (migrated, demo data loaded), Redis key prefix, NATS
 * stream and subject — torn down by `close()`.
 */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })

export const startIdentity = async () => {
  const id = randomBytes(4).toString("hex")
  const dbName = `brandme_t_identity_${id}`
  const url = `postgres://postgres@127.0.0.1:5432/${dbName}`
  const natsUrl = "nats://127.0.0.1:4222"
  const stream = `T_IDENTITY_${id.toUpperCase()}`
  const subject = `t_${id}.garment.updated`
  const port = await freePort()
  const config = Effect.runSync(
    appConfig.pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["DATABASE_URL", url],
            ["REDIS_KEY_PREFIX", `t_identity_${id}:`],
            ["NATS_STREAM_PREFIX", stream],
            ["PORT_OFFSET", String(port - Services.identity.port)],
            ["HTTP_HOST", "127.0.0.1"]
          ])
        )
      )
    )
  )
  await ensureDatabase(url)
  const db = makeDatabaseLayer({
    url,
    poolMax: 8,
    idleTimeoutMs: 5000,
    connectTimeoutMs: 5000,
    ssl: "disable",
    applicationName: "identity-itest"
  })
  const infra = Layer.mergeAll(
    db,
    makeRedisLayer({
      url: "redis://127.0.0.1:6379",
      keyPrefix: config.redis.keyPrefix,
      connectionName: "identity-itest"
    }),
    makeNatsLayer({ url: natsUrl, streamPrefix: stream, name: "identity-itest" }),
    makeQueuesLayer({ url: "redis://127.0.0.1:6379", prefix: `t_identity_${id}`, name: "identity-itest" }),
    AppConfig.layerWith(config)
  )
  await Effect.runPromise(
    Effect.zipRight(migrateUp(), loadDemoData).pipe(Effect.provide(Layer.merge(db, AppConfig.layerWith(config))))
  )
  const events = makeGarmentEventsLive({ stream, subject, streamSubjects: [`t_${id}.garment.>`] })
  const app = Layer.merge(makeIdentityHttp(events), makeIdentityServices(events)).pipe(Layer.provideMerge(infra))
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(app, scope))
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const base = `http://127.0.0.1:${port}`

  return {
    base,
    config,
    stream,
    subject,
    /** runs an effect against the same services the server uses */
    run: <A, E>(e: Effect.Effect<A, E, Layer.Layer.Success<typeof app>>) =>
      Effect.runPromise(Effect.provide(e, context)),
    runExit: <A, E>(e: Effect.Effect<A, E, Layer.Layer.Success<typeof app>>) =>
      Effect.runPromiseExit(Effect.provide(e, context)),
    query: async <T = Record<string, unknown>>(text: string, values: ReadonlyArray<unknown> = []) =>
      (await client.query(text, [...values])).rows as Array<T>,
    /** a request to identity's own port, as its one caller (the gateway) sends it: with the gateway's service token */
    call: async (method: string, path: string, body?: unknown, token?: string) => {
      const headers: Record<string, string> = {
        [ServiceTokenHeader]: await serviceToken(config, "gateway", "identity")
      }
      if (body !== undefined) headers["content-type"] = "application/json"
      if (token !== undefined) headers.authorization = `Bearer ${token}`
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      const text = await res.text()
      const json: unknown = text === "" ? undefined : JSON.parse(text)
      // biome-ignore lint/suspicious/noExplicitAny: test helper — responses are asserted field by field
      const loose: Record<string, any> = json ?? {}
      return { status: res.status, headers: res.headers, body: loose }
    },
    lastGarmentEvent: async () => {
      const nc = await connect({ servers: "127.0.0.1:4222" })
      try {
        const jsm = await jetstreamManager(nc)
        const info = await jsm.streams.info(stream)
        const last = await jsm.streams.getMessage(stream, { last_by_subj: subject })
        return { count: info.state.messages, event: last === null ? undefined : last.json<Record<string, unknown>>() }
      } finally {
        await nc.close()
      }
    },
    close: async () => {
      await client.end()
      const redis = new IORedis("redis://127.0.0.1:6379")
      const keys = await redis.keys(`${config.redis.keyPrefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      await redis.quit()
      await Effect.runPromise(Scope.close(scope, Exit.void))
      const nc = await connect({ servers: "127.0.0.1:4222" })
      const jsm = await jetstreamManager(nc)
      await jsm.streams.delete(stream).catch(() => false)
      await nc.close()
      await dropDatabase(url)
    }
  }
}

export type IdentityTestEnv = Awaited<ReturnType<typeof startIdentity>>
