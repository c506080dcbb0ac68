import { Redis as IORedis } from "ioredis"

/**
 * Deletes every Redis key under a queue or key prefix (SCAN, not KEYS): what a test run or bench leaves on the
 * machine's Redis under its own prefixes (BullMQ's queues, schedulers and job hashes; the caches). Redis keeps
 * them until it restarts otherwise.
 */
export const deleteRedisPrefix = async (prefix: string, url = "redis://127.0.0.1:6379"): Promise<void> => {
  const r = new IORedis(url)
  try {
    let cursor = "0"
    do {
      const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
      cursor = next
      if (keys.length > 0) await r.del(...keys)
    } while (cursor !== "0")
  } finally {
    await r.quit()
  }
}
