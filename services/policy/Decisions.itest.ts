/**
 * Policy's decisions about owned garments, on real Postgres and Redis through `/internal/batch`: the owner's
 * jurisdiction and the consents that apply to the garment come from ONE query, and a decision asked with the
 * owner's generation the caller read is the same decision, kept under that generation. Queries are counted by
 * the service's own `brandme_db_query_duration_seconds_count{operation=…}`.
 */
import { Redis } from "ioredis"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ServiceTokenHeader } from "../../shared/auth/ServiceTokens.js"
import { queriesRun, startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { serviceToken } from "../../shared/testing/TestTokens.js"

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"

let platform: TestPlatform
let db: pg.Client
let owner: string
/** two garments of the demo data, both given to the owner here */
let garment: string
let other: string

interface Outcome {
  readonly ok: boolean
  readonly value?: {
    readonly regime: string
    readonly reason?: string
    readonly allowed: ReadonlyArray<{ group: string; reason: string }>
    readonly denied: ReadonlyArray<{ group: string; reason: string }>
  }
  readonly error?: { readonly _tag: string; readonly message: string }
}

const batch = async (payloads: ReadonlyArray<unknown>): Promise<ReadonlyArray<Outcome>> => {
  const res = await fetch(`${platform.url("policy")}/internal/batch`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [ServiceTokenHeader]: await serviceToken(platform.config, "gateway", "policy")
    },
    body: JSON.stringify({ calls: payloads.map((payload) => ({ op: "decide", payload })) })
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { results: ReadonlyArray<Outcome> }).results
}

/** an anonymous scan from the US of the owner's garment, wanting everything (public_view) */
const request = (garmentId: string, ownerGeneration?: string) => ({
  garmentId,
  ownerUserId: owner,
  role: "public",
  relation: "none",
  intent: "public_view",
  scannerRegion: "US",
  claimedRegion: null,
  ...(ownerGeneration !== undefined ? { ownerGeneration } : {})
})

const allowed = (o: Outcome | undefined) => o?.value?.allowed.map((a) => a.group) ?? []

/** how many queries of `operation` policy has run (its own query-timing histogram) */
const queries = (operation: string) => queriesRun(platform, "policy", operation)

const consent = (garmentId: string | null, granted: boolean) =>
  db.query(
    `INSERT INTO consents (owner_user_id, garment_id, purpose, granted, policy_version)
     VALUES ($1, $2, 'ownership_history', $3, 'test')`,
    [owner, garmentId, granted]
  )

beforeAll(async () => {
  platform = await startTestPlatform({ label: "decisions", services: ["policy"], demoData: true })
  db = new pg.Client({ connectionString: platform.db.url })
  await db.connect()
  // the demo owner lives in France (GDPR: an anonymous scanner sees the history only with their consent)
  const users = await db.query<{ id: string }>("UPDATE users SET region_code = 'FR' WHERE role = 'owner' RETURNING id")
  owner = users.rows[0]!.id
  const garments = await db.query<{ id: string }>("SELECT id FROM garments ORDER BY serial LIMIT 2")
  garment = garments.rows[0]!.id
  other = garments.rows[1]!.id
  await db.query("UPDATE garments SET owner_user_id = $1 WHERE id = ANY($2::uuid[])", [owner, [garment, other]])
}, 120_000)

afterAll(async () => {
  await db?.end()
  await platform?.close()
})

describe("policy's decisions about owned garments", () => {
  it("reads the owner's jurisdiction and the consents that apply to the garment in one query", async () => {
    const before = await queries("select users")
    const consentsBefore = await queries("select consents")
    // no consent: GDPR, the history withheld
    const [none] = await batch([request(garment, "101")])
    expect(none?.value?.regime).toBe("gdpr")
    expect(none?.value?.reason).toBe("owner's jurisdiction FR")
    expect(allowed(none)).not.toContain("ownership_history")
    // a consent for another of their garments does not apply to this one
    await consent(other, true)
    const [elsewhere] = await batch([request(garment, "102")])
    expect(allowed(elsewhere)).not.toContain("ownership_history")
    // one for all their garments does
    await consent(null, true)
    const [everywhere] = await batch([request(garment, "103")])
    expect(allowed(everywhere)).toContain("ownership_history")
    // and a later withdrawal for this garment wins over it
    await consent(garment, false)
    const [withdrawn] = await batch([request(garment, "104")])
    expect(allowed(withdrawn)).not.toContain("ownership_history")
    // each decision was one query, none of them the consents' own
    expect((await queries("select users")) - before).toBe(4)
    expect((await queries("select consents")) - consentsBefore).toBe(0)
    // an owner whose row is gone: no jurisdiction (the strictest regime) and no consents, not an error
    const [gone] = await batch([{ ...request(garment, "105"), ownerUserId: "00000000-0000-4000-8000-00000000dead" }])
    expect(gone).toMatchObject({ ok: true })
    expect(gone?.value?.reason).toMatch(/^owner's jurisdiction unknown/)
    expect(allowed(gone)).not.toContain("ownership_history")
  })

  it("asked with the owner's generation: the same decision, kept under that generation; a malformed one is named", async () => {
    const [read] = await batch([request(other)])
    const [brought, bad] = await batch([request(other, "4242"), request(other, "latest")])
    expect(read).toMatchObject({ ok: true })
    expect(brought).toEqual(read)
    expect(bad).toMatchObject({ ok: false, error: { _tag: "ValidationError" } })
    expect(bad?.error?.message).toContain("ownerGeneration")
    // kept under the generation it was asked with, the entry written without waiting
    const redis = new Redis(redisUrl)
    try {
      const pattern = `${platform.config.redis.keyPrefix}policy:decision:*:${owner}:4242:${other}:*`
      let keys: Array<string> = []
      for (let i = 0; i < 50 && keys.length === 0; i++) {
        keys = await redis.keys(pattern)
        if (keys.length === 0) await new Promise((r) => setTimeout(r, 10))
      }
      expect(keys).toHaveLength(1)
    } finally {
      redis.disconnect()
    }
  })
})
