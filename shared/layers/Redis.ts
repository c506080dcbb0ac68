import { Effect, Layer, Redacted } from "effect"
import { Redis as IORedis, type RedisOptions } from "ioredis"
import { AppConfig } from "../config/AppConfig.js"
import { settledWithin } from "../runtime/Settled.js"
import { DependencyError, describeCause, NotImplementedInTest } from "./Errors.js"
import { Redis } from "./Systems.js"

/**
 * The cache Redis (REDIS_URL; may evict: allkeys-lru). The queue Redis (REDIS_QUEUE_URL, noeviction) is BullMQ's,
 * opened by the Queues layer for the services that declare the `queue` dependency. In development both may point
 * at the same server. Keys are prefixed so test runs and environments never collide.
 */
export interface RedisService {
  readonly keyPrefix: string
  readonly key: (k: string) => string
  readonly ping: Effect.Effect<void, DependencyError>
  readonly get: (key: string) => Effect.Effect<string | null, DependencyError>
  readonly set: (key: string, value: string, ttlSeconds?: number) => Effect.Effect<void, DependencyError>
  readonly del: (...keys: ReadonlyArray<string>) => Effect.Effect<number, DependencyError>
  /**
   * Cache entries (SETs with a TTL, in the tick's one write: the cache connection auto-pipelines), sent without
   * waiting for Redis's replies, a failure ignored: for entries
   * the caller's answer does not depend on and that are safe to land late or not at all (keyed by a
   * generation, or checked for currency when read). The caller answers a round trip sooner.
   */
  readonly cacheLater: (entries: ReadonlyArray<readonly [string, string]>, ttlSeconds: number) => Effect.Effect<void>
  /** `cacheLater` as a plain call, for code that runs without a fiber (knowledge's bulk lookups) */
  readonly cacheLaterPlain: (entries: ReadonlyArray<readonly [string, string]>, ttlSeconds: number) => void
  /** the raw cache client, for scripts and pipelines (prefix keys with `key`) */
  readonly cache: Effect.Effect<IORedis, NotImplementedInTest>
}

export { Redis }

const wrap = <A>(operation: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (cause) => new DependencyError({ dependency: "redis", operation, message: describeCause(cause) })
  }).pipe(
    Effect.withSpan(`redis.${operation}`, {
      kind: "client",
      attributes: { "db.system": "redis" },
      captureStackTrace: false
    })
  )

const baseOptions: RedisOptions = {
  lazyConnect: false,
  // reconnect quickly after an outage: recovery needs no restart
  retryStrategy: (times) => Math.min(100 * times, 1000),
  connectTimeout: 2000
}

export interface RedisOptionsInput {
  readonly url: string
  readonly keyPrefix: string
  readonly connectionName: string
}

export const makeRedisClient = (url: string, name: string, role: "cache" | "queue"): IORedis =>
  new IORedis(url, {
    ...baseOptions,
    connectionName: `${name}:${role}`,
    // commands on the cache connection fail fast while Redis is down; queue commands wait (BullMQ needs null)
    maxRetriesPerRequest: role === "cache" ? 1 : null,
    enableOfflineQueue: true,
    // the cache connection sends every command issued in one event-loop tick in one write: a cold scan's
    // reads and writes across concurrent requests cost one syscall per tick instead of one per command
    enableAutoPipelining: role === "cache"
  })

export const makeRedisLayer = (o: RedisOptionsInput) =>
  Layer.scoped(
    Redis,
    Effect.gen(function* () {
      const cache = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const c = makeRedisClient(o.url, o.connectionName, "cache")
          c.on("error", () => {})
          return c
        }),
        // QUIT waits for a connection, so a Redis that is down (or a client still reconnecting) would hold
        // SIGTERM past the grace period: quit only a ready client, for at most 2 s, and disconnect otherwise
        (c) =>
          Effect.promise(async () => {
            if (c.status !== "ready" || !(await settledWithin(c.quit(), 2_000))) c.disconnect()
          })
      )
      const key = (k: string) => `${o.keyPrefix}${k}`
      const cacheLaterPlain = (entries: ReadonlyArray<readonly [string, string]>, ttl: number) => {
        for (const [k, v] of entries) cache.set(key(k), v, "EX", ttl).catch(() => undefined)
      }
      return {
        keyPrefix: o.keyPrefix,
        key,
        ping: wrap("ping", () => cache.ping()).pipe(Effect.asVoid),
        get: (k) => wrap("get", () => cache.get(key(k))),
        set: (k, v, ttl) =>
          wrap("set", () => (ttl === undefined ? cache.set(key(k), v) : cache.set(key(k), v, "EX", ttl))).pipe(
            Effect.asVoid
          ),
        del: (...ks) => (ks.length === 0 ? Effect.succeed(0) : wrap("del", () => cache.del(...ks.map(key)))),
        cacheLater: (entries, ttl) => Effect.sync(() => cacheLaterPlain(entries, ttl)),
        cacheLaterPlain,
        cache: Effect.succeed(cache)
      } satisfies RedisService
    })
  )

export const RedisLive = (connectionName: string) =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (c) =>
      makeRedisLayer({
        url: Redacted.value(c.redis.url),
        keyPrefix: c.redis.keyPrefix,
        connectionName
      })
    )
  )

/** Unit tests: an in-memory key/value store with TTLs; raw clients are refused loudly. */
export const makeRedisTest = (keyPrefix = "test:") => {
  const store = new Map<string, { value: string; expiresAt: number | undefined }>()
  const now = () => Date.now()
  const read = (k: string) => {
    const e = store.get(k)
    if (e === undefined) return null
    if (e.expiresAt !== undefined && e.expiresAt <= now()) {
      store.delete(k)
      return null
    }
    return e.value
  }
  const key = (k: string) => `${keyPrefix}${k}`
  const cacheLaterPlain = (entries: ReadonlyArray<readonly [string, string]>, ttl: number) => {
    for (const [k, value] of entries) store.set(key(k), { value, expiresAt: now() + ttl * 1000 })
  }
  const service: RedisService = {
    keyPrefix,
    key,
    ping: Effect.void,
    get: (k) => Effect.sync(() => read(key(k))),
    set: (k, value, ttl) =>
      Effect.sync(() => {
        store.set(key(k), { value, expiresAt: ttl === undefined ? undefined : now() + ttl * 1000 })
      }),
    del: (...ks) => Effect.sync(() => ks.filter((k) => store.delete(key(k))).length),
    cacheLater: (entries, ttl) => Effect.sync(() => cacheLaterPlain(entries, ttl)),
    cacheLaterPlain,
    cache: Effect.fail(new NotImplementedInTest({ service: "Redis", method: "cache" }))
  }
  return { layer: Layer.succeed(Redis, service), store }
}
