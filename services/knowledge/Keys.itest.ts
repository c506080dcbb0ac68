/**
 * A garment's generation on a real Redis: raised to the version a writer committed, never lowered — two writers
 * announcing out of order leave the higher — and a cached copy is current only at or above it.
 */
import { randomBytes } from "node:crypto"
import { Redis as IORedis } from "ioredis"
import { afterAll, describe, expect, it } from "vitest"
import { garmentGenerationKey, isCurrent, raiseGeneration } from "./Keys.js"

const redis = new IORedis("redis://127.0.0.1:6379")
const key = `t${randomBytes(4).toString("hex")}:${garmentGenerationKey("00000000-0000-4000-8000-000000000001")}`
afterAll(async () => {
  await redis.del(key)
  redis.disconnect()
})

describe("a garment's generation", () => {
  it("is raised to the committed version and never lowered by a late announce", async () => {
    expect(await redis.get(key)).toBeNull()
    expect(isCurrent(1, await redis.get(key))).toBe(true)
    expect(await raiseGeneration(redis, key, 3)).toBe(3)
    // the writer of version 2 announces after the writer of version 3
    expect(await raiseGeneration(redis, key, 2)).toBe(3)
    expect(await redis.get(key)).toBe("3")
    expect(isCurrent(2, await redis.get(key))).toBe(false)
    expect(isCurrent(3, await redis.get(key))).toBe(true)
    // concurrent announces: the highest wins
    await Promise.all([5, 4, 7, 6].map((v) => raiseGeneration(redis, key, v)))
    expect(await redis.get(key)).toBe("7")
  })

  it("treats a generation it cannot read as ahead of every copy (read the row)", () => {
    expect(isCurrent(9, "not-a-number")).toBe(false)
  })
})
