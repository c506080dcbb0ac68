import { randomUUID } from "node:crypto"
import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { withCheckDigit } from "../../shared/domain/Gtin.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { policySettingsOf, policyVersion, UNKNOWN_REGION_REASON } from "../policy/Port.js"
import { digitalLinkOf, postJson } from "./testing/ScanPathHarness.js"

/**
 * Privacy by default through the gateway as deployed behind one ingress hop (HTTP_TRUSTED_PROXY_HOPS=1):
 * the regime follows the data subject, the scanner's region comes only from the ingress's geo header,
 * and an unknown or claimed region never loosens a decision.
 */
interface Entry {
  readonly group: string
  readonly reason: string
}
interface Scan {
  readonly regionCode: string
  readonly decision: {
    readonly regime: string
    readonly reason: string
    readonly policyVersion: string
    readonly allowed: ReadonlyArray<Entry>
    readonly denied: ReadonlyArray<Entry>
  }
  readonly facets: Record<string, unknown>
}

let platform: TestPlatform
let gw: string
let db: pg.Client
let ownerToken: string
let ownerId: string
const tags = { owned: "", unowned: "" }
const viaIngress = (region: string) => ({ "x-forwarded-for": "198.51.100.20", "x-client-region": region })
const allowed = (s: Scan) => s.decision.allowed.map((a) => a.group)

const scan = async (tag: string, headers: Record<string, string> = {}, region?: string): Promise<Scan> => {
  const r = await postJson(`${gw}/v1/scans`, region === undefined ? { tag } : { tag, context: { region } }, headers)
  expect(r.status, JSON.stringify(r.json)).toBe(200)
  return r.json as Scan
}

const auditJobs = async () => {
  const conn = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
  const q = new Queue("audit", { connection: conn, prefix: platform.config.queues.prefix })
  try {
    return await q.getJobs(["waiting", "delayed", "active", "completed", "failed", "prioritized"])
  } finally {
    await q.close()
    conn.disconnect()
  }
}

beforeAll(async () => {
  platform = await startTestPlatform({
    label: "privacy",
    services: ["gateway"],
    env: { HTTP_TRUSTED_PROXY_HOPS: "1" }
  })
  gw = platform.url("gateway")
  // an owner living in France signs up and signs in
  const email = `eu-${randomUUID()}@example.com`
  const password = "Vert-galant 7 quai"
  const reg = await postJson(`${gw}/v1/users`, { email, password, displayName: "Élise", regionCode: "FR" })
  // created (201) or, with a uniform self-registration answer, accepted (202): sign in either way
  expect([201, 202], JSON.stringify(reg.json)).toContain(reg.status)
  const login = await postJson(`${gw}/v1/auth/login`, { email, password })
  expect(login.status, JSON.stringify(login.json)).toBe(200)
  const session = login.json as { token: string; user: { id: string } }
  ownerToken = session.token
  ownerId = session.user.id
  // their garment, and one nobody owns
  db = new pg.Client({ connectionString: platform.db.url })
  await db.connect()
  const brand = await db.query<{ id: string }>("INSERT INTO brands (slug, name) VALUES ($1, 'Brand') RETURNING id", [
    `privacy-${randomUUID()}`
  ])
  const gtin = withCheckDigit("0950600013435")
  const garment = async (serial: string, owner: string | null) => {
    const g = await db.query<{ id: string }>(
      `INSERT INTO garments (brand_id, gtin, serial, name, facets, owner_user_id)
       VALUES ($1, $2, $3, 'Wool coat', '{"materials":[{"fibre":"wool","percent":100}]}'::jsonb, $4) RETURNING id`,
      [brand.rows[0]?.id, gtin, serial, owner]
    )
    if (owner !== null) {
      await db.query("INSERT INTO ownership_events (garment_id, kind, to_user_id) VALUES ($1, 'claimed', $2)", [
        g.rows[0]?.id,
        owner
      ])
    }
    return digitalLinkOf({ gtin, serial })
  }
  tags.owned = await garment("EU-OWNED-1", ownerId)
  tags.unowned = await garment("FREE-1", null)
}, 60_000)

afterAll(async () => {
  await db?.end()
  await platform?.close()
})

describe("privacy by default through the gateway", () => {
  it("an EU owner's garment scanned from the US without consent shows no ownership history", async () => {
    for (let i = 0; i < 3; i++) {
      // the first two scans take the full path (an answer is kept on its second build), the third the warm lane: the same answer
      const s = await scan(tags.owned, viaIngress("US"))
      expect(s.regionCode).toBe("US")
      expect(s.decision.regime).toBe("gdpr")
      expect(s.decision.reason).toBe("owner's jurisdiction FR")
      expect(s.decision.policyVersion).toBe(policyVersion(policySettingsOf(platform.config)))
      expect(allowed(s)).not.toContain("ownership_history")
      expect(allowed(s)).not.toContain("owner_identity")
      expect(s.facets.ownership_history).toBeUndefined()
      expect(JSON.stringify(s)).not.toContain(ownerId)
    }
  })

  it("a scan with no region gets the strictest regime and says why", async () => {
    const s = await scan(tags.unowned)
    expect(s.regionCode).toBe("ZZ")
    expect(s.decision.regime).toBe("gdpr")
    expect(s.decision.reason).toBe(UNKNOWN_REGION_REASON)
  })

  it("a forged geo header from an untrusted hop is ignored; the ingress's is believed", async () => {
    // no X-Forwarded-For entry for our ingress: the request did not come through it
    const forged = await scan(tags.unowned, { "x-client-region": "US" })
    expect(forged.decision.regime).toBe("gdpr")
    expect(forged.decision.reason).toBe(UNKNOWN_REGION_REASON)
    const trusted = await scan(tags.unowned, viaIngress("US"))
    expect(trusted.decision.regime).toBe("default")
    expect(trusted.decision.reason).toBe("scanner region US")
  })

  it("a declared region only makes the decision stricter", async () => {
    const stricter = await scan(tags.unowned, viaIngress("US"), "FR")
    expect(stricter.decision).toMatchObject({ regime: "gdpr", reason: "declared region FR" })
    const looser = await scan(tags.unowned, viaIngress("DE"), "US")
    expect(looser.decision).toMatchObject({ regime: "gdpr", reason: "scanner region DE" })
    const withoutEdge = await scan(tags.unowned, {}, "US-NY")
    expect(withoutEdge.decision).toMatchObject({ regime: "gdpr", reason: UNKNOWN_REGION_REASON })
  })

  it("the owner changes their jurisdiction: the next scan follows it, and the change is audited", async () => {
    const put = await fetch(`${gw}/v1/users/me/jurisdiction`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({ jurisdiction: "US-NY" })
    })
    const body = await put.json()
    expect(put.status, JSON.stringify(body)).toBe(200)
    expect(body).toMatchObject({ userId: ownerId, jurisdiction: "US-NY", previous: "FR" })
    // the warm answer of the old jurisdiction is not served: US rules now show the history (until opt-out)
    const s = await scan(tags.owned, viaIngress("US"))
    expect(s.decision).toMatchObject({ regime: "default", reason: "scanner region US" })
    expect(allowed(s)).toContain("ownership_history")
    const bad = await fetch(`${gw}/v1/users/me/jurisdiction`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({ jurisdiction: "France" })
    })
    expect(bad.status).toBe(400)
    const anonymous = await fetch(`${gw}/v1/users/me/jurisdiction`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jurisdiction: "FR" })
    })
    expect(anonymous.status).toBe(401)
    const jobs = await auditJobs()
    const changes = jobs.filter((j) => j.data.kind === "jurisdiction_changed")
    expect(changes).toHaveLength(1)
    expect(changes[0]?.data).toMatchObject({
      kind: "jurisdiction_changed",
      subject: { _tag: "Person", subjectId: ownerId },
      payload: { from: "FR", to: "US-NY" }
    })
  })

  it("the running policy version is recorded once: one policy_versions row, one policy_version audit job", async () => {
    const version = policyVersion(policySettingsOf(platform.config))
    const rows = await db.query<{ version: string }>("SELECT version FROM policy_versions")
    expect(rows.rows.map((r) => r.version)).toEqual([version])
    const jobs = (await auditJobs()).filter((j) => j.data.kind === "policy_version")
    expect(jobs).toHaveLength(1)
    expect(jobs[0]?.data).toMatchObject({ idempotencyKey: `policy_version:${version}`, payload: { version } })
  })
})
