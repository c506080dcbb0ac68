import type { Redis as IORedis } from "ioredis"
import { Effect } from "effect"

/**
 * The queue Redis must never evict (an evicted job key is a lost job): `maxmemory-policy noeviction`.
 * The cache Redis should evict least-recently-used keys: `allkeys-lru`. Managed Redis often disables
 * CONFIG; then we can only say it was not checked.
 */
export type PolicyCheck =
  | { readonly _tag: "ok"; readonly policy: string }
  | { readonly _tag: "mismatch"; readonly policy: string }
  | { readonly _tag: "unknown"; readonly reason: string }

export const readEvictionPolicy = (client: IORedis, expected: string): Effect.Effect<PolicyCheck> =>
  Effect.promise(async (): Promise<PolicyCheck> => {
    try {
      const reply: unknown = await client.call("CONFIG", "GET", "maxmemory-policy")
      const policy = Array.isArray(reply) && typeof reply[1] === "string" ? reply[1] : undefined
      if (policy === undefined) return { _tag: "unknown", reason: "CONFIG GET returned nothing" }
      return policy === expected ? { _tag: "ok", policy } : { _tag: "mismatch", policy }
    } catch (e) {
      return { _tag: "unknown", reason: e instanceof Error ? e.message : String(e) }
    }
  }).pipe(
    Effect.timeoutTo({
      duration: "3 seconds",
      onTimeout: (): PolicyCheck => ({ _tag: "unknown", reason: "timed out" }),
      onSuccess: (c) => c
    })
  )

/** Logs a warning per role whose policy is wrong or unknown; returns what it found. */
export const checkRedisRoles = (clients: { readonly queue: IORedis; readonly cache: IORedis }) =>
  Effect.gen(function* () {
    const queue = yield* readEvictionPolicy(clients.queue, "noeviction")
    const cache = yield* readEvictionPolicy(clients.cache, "allkeys-lru")
    if (queue._tag === "mismatch")
      yield* Effect.logWarning(
        `queue Redis maxmemory-policy is ${queue.policy}, not noeviction: under memory pressure Redis may evict job keys and jobs will be lost`
      )
    if (queue._tag === "unknown")
      yield* Effect.logWarning(
        `queue Redis maxmemory-policy could not be checked (${queue.reason}); it must be noeviction`
      )
    if (cache._tag === "mismatch")
      yield* Effect.logInfo(
        `cache Redis maxmemory-policy is ${cache.policy}; allkeys-lru is recommended for the cache role`
      )
    if (cache._tag === "unknown")
      yield* Effect.logInfo(
        `cache Redis maxmemory-policy could not be checked (${cache.reason}); allkeys-lru is recommended`
      )
    return { queue, cache }
  })
