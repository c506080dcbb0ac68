/**
 * Knowledge's scan-path lookups batched across one `/internal/batch` request, on real Postgres and Redis: the
 * garments of many `resolve` calls come from ONE query, the histories of many `view` calls from ONE query, and
 * each call still gets its own answer (its own garment, its own history, its own GarmentNotFound), in order.
 * Queries are counted by the service's own `brandme_db_query_duration_seconds_count{operation=…}`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Redis } from "ioredis"
import { ServiceTokenHeader } from "../../shared/auth/ServiceTokens.js"
import { demoGarments, demoUsers } from "../../scripts/DemoData.js"
import { queriesRun, startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { deleteRedisPrefix } from "../../shared/testing/TestRedis.js"
import { serviceToken } from "../../shared/testing/TestTokens.js"
import { sql } from "../console/testing/ConsoleFixtures.js"
import { garmentGenerationKey } from "./Keys.js"

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"

let platform: TestPlatform
/** the demo garments' ids by serial, read from the database */
const ids = new Map<string, string>()

interface Outcome {
  readonly ok: boolean
  readonly value?: Record<string, unknown>
  readonly error?: { readonly _tag: string; readonly message: string }
}

const batch = async (calls: ReadonlyArray<{ op: string; payload: unknown }>): Promise<ReadonlyArray<Outcome>> => {
  const res = await fetch(`${platform.url("knowledge")}/internal/batch`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [ServiceTokenHeader]: await serviceToken(platform.config, "gateway", "knowledge")
    },
    body: JSON.stringify({ calls })
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { results: ReadonlyArray<Outcome> }).results
}

/** how many queries of `operation` knowledge has run (its own query-timing histogram) */
const queries = (operation: string) => queriesRun(platform, "knowledge", operation)

const resolveCall = (gtin: string, serial: string) => ({
  op: "resolve",
  payload: { ref: { _tag: "DigitalLink", gtin, serial, batch: null } }
})

beforeAll(async () => {
  platform = await startTestPlatform({ label: "lookups", services: ["knowledge"], demoData: true })
  for (const row of await sql<{ id: string; serial: string }>(platform.db.url, "SELECT id, serial FROM garments")) {
    ids.set(row.serial, row.id)
  }
  // a second garment with a history (the demo data has one: the first garment's claim), two events long
  const third = ids.get(demoGarments[2]!.serial)!
  const owner = await sql<{ id: string }>(platform.db.url, "SELECT id FROM users WHERE role = 'owner'")
  await sql(
    platform.db.url,
    `INSERT INTO ownership_events (garment_id, kind, to_user_id, created_at) VALUES
       ($1, 'claimed', $2, now() - interval '2 days'), ($1, 'transfer_offered', NULL, now() - interval '1 day')`,
    [third, owner[0]!.id]
  )
}, 120_000)
afterAll(() => platform?.close())

describe("knowledge's lookups in one batch", () => {
  it("resolves of many garments are one query; each call gets its own garment or its own 404", async () => {
    const before = await queries("select garments")
    const calls = [
      ...demoGarments.map((g) => resolveCall(g.gtin, g.serial)),
      resolveCall(demoGarments[0]!.gtin, "NO-SUCH-SERIAL"),
      // the same garment twice in one batch: both answered
      resolveCall(demoGarments[1]!.gtin, demoGarments[1]!.serial)
    ]
    const results = await batch(calls)
    expect(results).toHaveLength(calls.length)
    for (const [i, g] of demoGarments.entries()) {
      expect(results[i]).toMatchObject({ ok: true, value: { id: ids.get(g.serial), gtin: g.gtin, serial: g.serial } })
    }
    expect(results[demoGarments.length]).toMatchObject({
      ok: false,
      error: {
        _tag: "GarmentNotFound",
        message: `no garment with GTIN ${demoGarments[0]!.gtin} and serial NO-SUCH-SERIAL`
      }
    })
    expect(results[demoGarments.length + 1]).toMatchObject({
      ok: true,
      value: { id: ids.get(demoGarments[1]!.serial) }
    })
    expect((await queries("select garments")) - before).toBe(1)

    // resolved once, the tags are cached: a second batch needs no query at all
    const again = await batch(demoGarments.map((g) => resolveCall(g.gtin, g.serial)))
    expect(again.map((r) => r.value?.id)).toEqual(demoGarments.map((g) => ids.get(g.serial)))
    expect((await queries("select garments")) - before).toBe(1)
  })

  it("views with the ownership history of many garments read the histories in one query, each its own", async () => {
    const before = await queries("select ownership_events")
    const garments = demoGarments.map((g) => ids.get(g.serial)!)
    const results = await batch(
      garments.map((garmentId) => ({ op: "view", payload: { garmentId, allowed: ["ownership_history"] } }))
    )
    expect((await queries("select ownership_events")) - before).toBe(1)
    const kinds = results.map((r) =>
      (r.value?.ownership_history as ReadonlyArray<{ kind: string }> | undefined)?.map((e) => e.kind)
    )
    // the first garment: its demo claim; the third: claim then offer, oldest first; the others: none
    expect(kinds).toEqual([["claimed"], [], ["claimed", "transfer_offered"], [], []])
    // identifiers only when the owner's identity is allowed too: not here
    expect(JSON.stringify(results)).not.toContain("UserId")
  })

  it("a view asked with the caller's generation answers as one without, kept under that generation", async () => {
    const garmentId = ids.get(demoGarments[1]!.serial)!
    const allowed = ["materials", "care"]
    const [read] = await batch([{ op: "view", payload: { garmentId, allowed } }])
    const [brought, bad] = await batch([
      { op: "view", payload: { garmentId, allowed, generation: "4242" } },
      { op: "view", payload: { garmentId, allowed, generation: "latest" } }
    ])
    expect(read).toMatchObject({ ok: true })
    expect(brought).toEqual(read)
    expect(bad).toMatchObject({ ok: false, error: { _tag: "ValidationError" } })
    expect(JSON.stringify(bad)).toContain("generation")
    // kept under the generation it was asked with (the view's own key), the entry written without waiting
    const redis = new Redis(redisUrl)
    try {
      const key = `${platform.config.redis.keyPrefix}knowledge:view:${garmentId}:4242:care,materials`
      for (let i = 0; i < 50 && (await redis.exists(key)) === 0; i++) await new Promise((r) => setTimeout(r, 10))
      expect(await redis.exists(key)).toBe(1)
    } finally {
      redis.disconnect()
    }
  })

  it("a resolve asked for a view brings an ownerless garment's view — the same as view's — and none for an owned one", async () => {
    const owners = new Map(
      (
        await sql<{ id: string; owner_user_id: string | null }>(
          platform.db.url,
          "SELECT id, owner_user_id FROM garments"
        )
      ).map((r) => [r.id, r.owner_user_id])
    )
    const groups = ["materials", "care", "ownership_history"]
    const before = await queries("select ownership_events")
    const resolved = await batch(
      demoGarments.map((g) => ({
        op: "resolve",
        payload: { ref: { _tag: "DigitalLink", gtin: g.gtin, serial: g.serial, batch: null }, view: groups }
      }))
    )
    // the histories of the batch's ownerless garments: one query
    expect((await queries("select ownership_events")) - before).toBe(1)
    const viewed = await batch(
      demoGarments.map((g) => ({ op: "view", payload: { garmentId: ids.get(g.serial), allowed: groups } }))
    )
    const unowned = demoGarments.filter((g) => owners.get(ids.get(g.serial)!) === null)
    const owned = demoGarments.filter((g) => owners.get(ids.get(g.serial)!) !== null)
    expect(unowned.length).toBeGreaterThan(0)
    expect(owned.length).toBeGreaterThan(0)
    for (const [i, g] of demoGarments.entries()) {
      const value = resolved[i]!.value!
      expect(value.id).toBe(ids.get(g.serial))
      if (owners.get(ids.get(g.serial)!) === null) expect(value.view).toEqual(viewed[i]!.value)
      else expect(value).not.toHaveProperty("view")
    }
    // the third garment has no owner but a history: it comes with the view, oldest first
    const third = resolved[2]!.value!.view as { ownership_history?: ReadonlyArray<{ kind: string }> } | undefined
    expect(third?.ownership_history?.map((e) => e.kind)).toEqual(["claimed", "transfer_offered"])
    // without a view asked for, a resolve answers the record alone
    const plain = await batch([resolveCall(unowned[0]!.gtin, unowned[0]!.serial)])
    expect(plain[0]!.value).not.toHaveProperty("view")
  })
  it("a resolve answers the garment's generation as read with its record: by tag, by cached tag, by id; 0 when never changed", async () => {
    const prefix = platform.config.redis.keyPrefix
    const [a, b, c] = demoGarments.map((g) => ({ ...g, id: ids.get(g.serial)! }))
    const redis = new Redis(redisUrl)
    try {
      await deleteRedisPrefix(prefix)
      await redis.set(`${prefix}${garmentGenerationKey(c!.id)}`, "4")
      // tags not cached: the garments come by (gtin, serial), their generations read after the rows
      const byTag = await batch([resolveCall(a!.gtin, a!.serial), resolveCall(c!.gtin, c!.serial)])
      expect(byTag.map((r) => [r.value?.id, r.value?.generation])).toEqual([
        [a!.id, "0"],
        [c!.id, "4"]
      ])
      // the tag now cached: by id, the generation read in the same MGET as the cached record
      await redis.set(`${prefix}${garmentGenerationKey(a!.id)}`, "3")
      await redis.set(`${prefix}${garmentGenerationKey(b!.id)}`, "5")
      const byId = await batch([
        resolveCall(a!.gtin, a!.serial),
        { op: "resolve", payload: { ref: { _tag: "GarmentId", id: b!.id } } }
      ])
      expect(byId.map((r) => [r.value?.id, r.value?.generation])).toEqual([
        [a!.id, "3"],
        [b!.id, "5"]
      ])
    } finally {
      // the generations set here are not the demo garments' own: the tests after this one start without them
      await deleteRedisPrefix(prefix)
      redis.disconnect()
    }
  })

  it("a batch answers each call as the single-call endpoint does: ids, unknown garments, owners' views, stale caches", async () => {
    const single = async (op: "resolve" | "view", payload: unknown): Promise<Outcome> => {
      const path = op === "resolve" ? "/internal/garments/resolve" : "/internal/garments/view"
      const res = await fetch(`${platform.url("knowledge")}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [ServiceTokenHeader]: await serviceToken(platform.config, "gateway", "knowledge")
        },
        body: JSON.stringify(payload)
      })
      const body = (await res.json()) as Record<string, unknown>
      return res.status === 200
        ? { ok: true, value: body }
        : { ok: false, error: { _tag: String(body.error), message: String(body.message) } }
    }
    const owned = await sql<{ id: string }>(platform.db.url, "SELECT id FROM garments WHERE owner_user_id IS NOT NULL")
    expect(owned.length).toBeGreaterThan(0)
    const unknown = "00000000-0000-4000-8000-00000000dead"
    const first = ids.get(demoGarments[0]!.serial)!
    const everything = ["materials", "origin", "care", "ownership_history", "owner_identity"]
    const calls = [
      { op: "resolve", payload: { ref: { _tag: "GarmentId", id: first } } },
      { op: "resolve", payload: { ref: { _tag: "GarmentId", id: unknown }, view: ["materials"] } },
      { op: "resolve", payload: { ref: { _tag: "GarmentId", id: owned[0]!.id }, view: everything } },
      { op: "view", payload: { garmentId: owned[0]!.id, allowed: everything } },
      { op: "view", payload: { garmentId: unknown, allowed: ["materials"] } },
      { op: "view", payload: { garmentId: first, allowed: ["care", "materials"] } }
    ] as const
    // cold: the single calls first, then every cache entry of the run dropped and the batch reads for itself
    const oneByOne = await Promise.all(calls.map((c) => single(c.op, c.payload)))
    await deleteRedisPrefix(platform.config.redis.keyPrefix)
    expect(await batch(calls)).toEqual(oneByOne)
    // warm: both from the entries the batch wrote
    expect(await batch(calls)).toEqual(await Promise.all(calls.map((c) => single(c.op, c.payload))))
    const ownerView = oneByOne[3]!.value as { owner_identity?: { displayName: string | null } }
    expect(ownerView.owner_identity?.displayName).toBe(demoUsers.find((u) => u.role === "owner")!.displayName)

    // a cached record read before a change is not served after it: the generation above its version reads the row
    const redis = new Redis(redisUrl)
    try {
      await redis.set(`${platform.config.redis.keyPrefix}${garmentGenerationKey(first)}`, "99")
    } finally {
      redis.disconnect()
    }
    const before = await queries("select garments")
    const again = await batch([{ op: "resolve", payload: { ref: { _tag: "GarmentId", id: first } } }])
    expect(again[0]).toMatchObject({ ok: true, value: { id: first } })
    expect((await queries("select garments")) - before).toBe(1)
  })
})
