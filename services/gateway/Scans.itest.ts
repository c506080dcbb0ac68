import { Queue } from "bullmq"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Schema } from "effect"
import { ScanBatch } from "../../shared/domain/Scan.js"
import { counterSum } from "../../shared/testing/Exposition.js"
import { digitalLinkOf, type Harness, makeHarness, postJson, type Seed } from "./testing/ScanPathHarness.js"

interface Entry {
  readonly group: string
  readonly reason: string
}
interface Scan {
  scanId: string
  intent: string
  decision: { regime: string; allowed: Array<Entry>; denied: Array<Entry> }
  facets: Record<string, unknown>
}
const groups = (es: ReadonlyArray<Entry>) => es.map((e) => e.group).sort()

let h: Harness
let seed: Seed
let gwA: string
let gwB: string
let gwHttp: string
const scanIds: Array<string> = []

const scan = async (gw: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await postJson(`${gw}/v1/scans`, body, headers)
  if (r.status === 200) scanIds.push((r.json as Scan).scanId)
  return r
}
const ok = async (gw: string, body: unknown, headers: Record<string, string> = {}): Promise<Scan> => {
  const r = await scan(gw, body, headers)
  expect(r.status, JSON.stringify(r.json)).toBe(200)
  return r.json as Scan
}
const bearer = (t: { token: string }) => ({ authorization: `Bearer ${t.token}` })
/** a request through our ingress (one trusted hop) whose geo header says `region` */
const from = (region: string) => ({ "x-forwarded-for": "203.0.113.7", "x-client-region": region })
const viaIngress = { HTTP_TRUSTED_PROXY_HOPS: "1" }
/** the one answer the replicas shared about garment `id` (Redis), its care facet marked as replica A's; its key */
const markSharedAnswer = async (id: string): Promise<string> => {
  const keys = await h.redis.keys(`${h.prefix}:gateway:answer:*|${id}|*`)
  expect(keys).toHaveLength(1)
  const shared = JSON.parse((await h.redis.get(keys[0]!))!)
  shared.facets.care = { wash: "as replica A shared it" }
  await h.redis.set(keys[0]!, JSON.stringify(shared), "EX", 60)
  return keys[0]!
}

/** a new ownerless garment of the seed brand (GTIN 9506000134352), created by its staff; its id */
const newGarment = async (serial: string, name: string, facets: Record<string, unknown>): Promise<string> => {
  const brand = await h.tokenFor({ userId: seed.users.brand, role: "brand", brandId: seed.brandId })
  const made = await postJson(`${gwA}/v1/garments`, { gtin: "9506000134352", serial, name, facets }, bearer(brand))
  expect(made.status, JSON.stringify(made.json)).toBe(201)
  return (made.json as { id: string }).id
}

beforeAll(async () => {
  h = await makeHarness("scans-itest")
  seed = await h.seed()
  await h.startBackends()
  gwA = await h.startGateway(1, "inprocess", viaIngress)
  gwB = await h.startGateway(2, "inprocess", viaIngress)
  gwHttp = await h.startGateway(3, "http", viaIngress)
})

afterAll(async () => {
  await h?.close()
})

describe("POST /v1/scans", () => {
  it("anonymous scan from the US of a US owner's garment: public_view, default regime, identity denied", async () => {
    const s = await ok(gwA, { tag: digitalLinkOf(seed.owned) }, from("US"))
    expect(s.intent).toBe("public_view")
    expect(s.decision.regime).toBe("default")
    expect(groups(s.decision.allowed)).toEqual(
      ["care", "certifications", "materials", "origin", "ownership_history", "supply_chain"].sort()
    )
    expect(groups(s.decision.denied)).toEqual(["owner_identity"])
    expect(s.facets.owner_identity).toBeUndefined()
    expect(JSON.stringify(s.facets)).not.toContain(seed.users.owner)
  })

  it("the warm lane answers exactly what the full path answered", async () => {
    const body = { tag: digitalLinkOf(seed.unowned), context: { region: "JP", intent: "authenticity_check" } }
    const first = await scan(gwB, body)
    // built again (from the answer the first shared): an answer is kept on its second build (Cache.ts)
    await scan(gwB, body)
    const second = await scan(gwB, body)
    const strip = (r: { json: unknown }) => {
      const { scanId, scannedAt, ...rest } = r.json as Record<string, unknown>
      expect(scanId).toEqual(expect.any(String))
      expect(scannedAt).toEqual(expect.any(String))
      return JSON.stringify(rest)
    }
    expect(second.status).toBe(200)
    expect(strip(second)).toBe(strip(first))
    expect(Object.keys(second.json as object)).toEqual(Object.keys(first.json as object))
  })

  it("a cached answer's Content-Length counts its bytes, not its characters (a name outside ASCII)", async () => {
    const name = "Chemise en lin lavé — été 🌿"
    await newGarment("UTF8-1", name, { care: { wash: "30°C" } })
    const body = { tag: "https://x.example/01/09506000134352/21/UTF8-1", context: { region: "FR" } }
    // the first two scans build the answer (it is kept on its second build), the third is the cache-hit branch's (a
    // length kept with the answer)
    for (const round of ["built", "built again", "cached"]) {
      const r = await scan(gwB, body)
      expect(r.status, round).toBe(200)
      expect((r.json as { garment: { name: string } }).garment.name, round).toBe(name)
      const text = JSON.stringify(r.json)
      expect(Number(r.headers.get("content-length")), round).toBe(Buffer.byteLength(text))
      expect(Buffer.byteLength(text), round).toBeGreaterThan(text.length)
    }
  })

  it("a replica keeps an answer on its second build, not its first (most cold answers are asked for once)", async () => {
    await newGarment("KEEP-1", "Scarf", { care: { wash: "30C" } })
    const body = { tag: "https://x.example/01/09506000134352/21/KEEP-1", context: { region: "DE" } }
    /** replica B's answer-cache misses and hits so far, from one reading of its metrics */
    const counts = async () => {
      const text = await fetch(h.metricsUrl("gateway", 2)).then((r) => r.text())
      const of = (result: "hit" | "miss") =>
        counterSum(text, "brandme_cache_requests_total", { cache: "scan_answer", result })
      return [of("miss"), of("hit")] as const
    }
    const [missesBefore, hitsBefore] = await counts()
    const seen: Array<[misses: number, hits: number]> = []
    for (let i = 0; i < 3; i++) {
      expect((await ok(gwB, body)).facets.care).toEqual({ wash: "30C" })
      const [misses, hits] = await counts()
      seen.push([misses - missesBefore, hits - hitsBefore])
    }
    // built; built again from the answer the first shared, and kept; answered from the replica's own cache
    expect(seen).toEqual([
      [1, 0],
      [2, 0],
      [2, 1]
    ])
  })

  it("resolves every intent for the roles that may use it, and refuses the others naming the intent", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    const brand = await h.tokenFor({ userId: seed.users.brand, role: "brand", brandId: seed.brandId })
    const auditor = await h.tokenFor({ userId: seed.users.auditor, role: "auditor", brandId: null })
    const tag = digitalLinkOf(seed.owned)
    expect((await ok(gwA, { tag }, bearer(owner))).intent).toBe("owner_view")
    expect((await ok(gwA, { tag, context: { intent: "ownership_transfer" } }, bearer(owner))).intent).toBe(
      "ownership_transfer"
    )
    expect((await ok(gwA, { tag, context: { intent: "authenticity_check" } })).intent).toBe("authenticity_check")
    const care = await ok(gwA, { tag, context: { intent: "care_instructions" } })
    expect(care.intent).toBe("care_instructions")
    expect(Object.keys(care.facets).sort()).toEqual(["care", "materials"])
    expect((await ok(gwA, { tag }, bearer(brand))).intent).toBe("brand_inspection")
    expect((await ok(gwA, { tag }, bearer(auditor))).intent).toBe("audit")
    expect((await ok(gwA, { tag: seed.owned.id })).intent).toBe("public_view")
    const refused = await scan(gwA, { tag, context: { intent: "audit" } })
    expect(refused.status).toBe(403)
    expect(refused.json).toMatchObject({ error: "IntentNotAllowed" })
    expect((refused.json as { message: string }).message).toContain("intent audit is not allowed for role public")
    const notOwner = await scan(gwA, { tag, context: { intent: "owner_view" } }, bearer(brand))
    expect(notOwner.status).toBe(403)
  })

  it("an EU public scanner never sees the owner's identity, even with every consent granted", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    for (const purpose of ["ownership_history", "owner_identity"]) {
      const c = await postJson(`${gwA}/v1/consents`, { purpose, granted: true }, bearer(owner))
      expect(c.status, JSON.stringify(c.json)).toBe(201)
    }
    const s = await ok(gwA, { tag: digitalLinkOf(seed.owned) }, from("de"))
    expect(s.decision.regime).toBe("gdpr")
    expect(s.decision.denied.find((d) => d.group === "owner_identity")?.reason).toContain("GDPR")
    expect(s.facets.owner_identity).toBeUndefined()
    expect(s.facets.ownership_history).toEqual([{ kind: "claimed", at: expect.any(String) }])
    const text = JSON.stringify(s)
    expect(text).not.toContain(seed.users.owner)
    expect(text).not.toContain(seed.ownerName)
    // the same owner's identity is shown in a default-regime region with consent
    const us = await ok(gwA, { tag: digitalLinkOf(seed.owned) }, from("BR"))
    expect(us.facets.owner_identity).toEqual({ userId: seed.users.owner, displayName: seed.ownerName })
    for (const purpose of ["ownership_history", "owner_identity"]) {
      await postJson(`${gwA}/v1/consents`, { purpose, granted: false }, bearer(owner))
    }
  })

  it("an owner sees their history and identity", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    const s = await ok(gwA, { tag: digitalLinkOf(seed.owned), context: { region: "FR" } }, bearer(owner))
    expect(s.intent).toBe("owner_view")
    expect(s.decision.denied).toEqual([])
    expect(s.facets.ownership_history).toEqual([
      { kind: "claimed", at: expect.any(String), fromUserId: null, toUserId: seed.users.owner }
    ])
    expect(s.facets.owner_identity).toEqual({ userId: seed.users.owner, displayName: seed.ownerName })
  })

  it("a withdrawn consent hides its facets on the very next scan, on another replica too", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    const tag = digitalLinkOf(seed.owned)
    const grant = await postJson(
      `${gwA}/v1/consents`,
      { garmentId: seed.owned.id, purpose: "ownership_history", granted: true },
      bearer(owner)
    )
    expect(grant.status).toBe(201)
    // both replicas warm with the granted answer
    for (const gw of [gwA, gwB, gwA, gwB]) {
      const s = await ok(gw, { tag, context: { region: "IT" } })
      expect(groups(s.decision.allowed)).toContain("ownership_history")
    }
    const withdraw = await postJson(
      `${gwA}/v1/consents`,
      { garmentId: seed.owned.id, purpose: "ownership_history", granted: false },
      bearer(owner)
    )
    expect(withdraw.status).toBe(201)
    const next = await ok(gwB, { tag, context: { region: "IT" } })
    expect(groups(next.decision.denied)).toContain("ownership_history")
    expect(next.facets.ownership_history).toBeUndefined()
    const onA = await ok(gwA, { tag, context: { region: "IT" } })
    expect(onA.facets.ownership_history).toBeUndefined()
    const list = await fetch(`${gwA}/v1/consents`, { headers: bearer(owner) }).then((r) => r.json())
    expect(list.current).toContainEqual(
      expect.objectContaining({ garmentId: seed.owned.id, purpose: "ownership_history", granted: false })
    )
  })

  it("the HTTP call path gives the same answer as the in-process one", async () => {
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    for (const [headers, body] of [
      [{}, { tag: digitalLinkOf(seed.owned), context: { region: "US-CA" } }],
      [bearer(owner), { tag: digitalLinkOf(seed.owned), context: { region: "FR" } }],
      [{}, { tag: digitalLinkOf(seed.unowned), context: { intent: "care_instructions" } }]
    ] as const) {
      const a = await ok(gwA, body, headers)
      const b = await ok(gwHttp, body, {
        ...headers,
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
      })
      expect({ ...b, scanId: "", scannedAt: "" }).toEqual({ ...a, scanId: "", scannedAt: "" })
    }
    const refused = await scan(gwHttp, { tag: digitalLinkOf(seed.owned), context: { intent: "audit" } })
    expect(refused.status).toBe(403)
    const missing = await scan(gwHttp, { tag: "https://e.com/01/09506000134352/21/NOPE" })
    expect(missing.status).toBe(404)
  })

  it("rejects revoked sessions, expired and forged tokens", async () => {
    const tag = digitalLinkOf(seed.owned)
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    expect((await scan(gwA, { tag }, bearer(owner))).status).toBe(200)
    await owner.revoke()
    const revoked = await scan(gwA, { tag }, bearer(owner))
    expect(revoked.status).toBe(401)
    expect(revoked.json).toMatchObject({ error: "Unauthorized", message: "session has ended: sign in again" })
    const expired = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null }, { ttl: -10 })
    expect((await scan(gwA, { tag }, bearer(expired))).json).toMatchObject({ message: "token expired" })
    const forged = `${owner.token.slice(0, -4)}AAAA`
    expect((await scan(gwA, { tag }, bearer({ token: forged }))).status).toBe(401)
  })

  it("Idempotency-Key returns the same scan, and refuses a different request under the same key", async () => {
    const body = { tag: digitalLinkOf(seed.unowned) }
    const first = await ok(gwA, body, { "idempotency-key": "k-1" })
    const again = await ok(gwB, body, { "idempotency-key": "k-1" })
    expect(again.scanId).toBe(first.scanId)
    const other = await scan(gwA, { tag: digitalLinkOf(seed.owned) }, { "idempotency-key": "k-1" })
    expect(other.status).toBe(409)
  })

  it("a replica resolving a garment takes the answer another replica shared, read with its generations", async () => {
    const id = await newGarment("SHARED-1", "Coat", { care: { wash: "40C" }, origin: { country: "PT" } })
    const body = { tag: "https://x.example/01/09506000134352/21/SHARED-1", context: { region: "BR" } }
    expect((await ok(gwA, body)).facets.care).toEqual({ wash: "40C" })
    // the answer replica A shared, marked: replica B has never resolved this garment
    const key = await markSharedAnswer(id)
    // B resolves the tag and reads the generations and that answer together: it answers A's, not a fresh one
    expect((await ok(gwB, body)).facets.care).toEqual({ wash: "as replica A shared it" })
    await h.redis.del(key)
  })

  it("a replica that knows the groups answers an ownerless garment from its resolve, reading no shared answer", async () => {
    const id = await newGarment("SHARED-2", "Coat", { care: { wash: "40C" }, origin: { country: "PT" } })
    const context = { region: "BR", intent: "public_view" }
    const body = { tag: "https://x.example/01/09506000134352/21/SHARED-2", context }
    // replica B learns what policy allows here from another ownerless garment; A answers the new one and shares it
    await ok(gwB, { tag: digitalLinkOf(seed.unowned), context })
    expect((await ok(gwA, body)).facets.care).toEqual({ wash: "40C" })
    const key = await markSharedAnswer(id)
    // B's resolve brings the view and the garment's generation: B builds the answer itself, A's is not read
    expect((await ok(gwB, body)).facets.care).toEqual({ wash: "40C" })
    await h.redis.del(key)
  })

  it("a garment update shows on the next scan everywhere; stale versions conflict", async () => {
    const brand = await h.tokenFor({ userId: seed.users.brand, role: "brand", brandId: seed.brandId })
    const other = await h.tokenFor({ userId: seed.users.otherBrand, role: "brand", brandId: seed.otherBrandId })
    const tag = digitalLinkOf(seed.unowned)
    await ok(gwA, { tag })
    await ok(gwB, { tag })
    const g = await fetch(`${gwA}/v1/garments/${seed.unowned.id}`, { headers: bearer(brand) }).then((r) => r.json())
    const patch = (version: number, who: { token: string }) =>
      fetch(`${gwA}/v1/garments/${seed.unowned.id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...bearer(who) },
        body: JSON.stringify({ version, facets: { care: { wash: "cold only" } } })
      })
    expect((await patch(g.version, other)).status).toBe(403)
    expect((await patch(g.version, brand)).status).toBe(200)
    const stale = await patch(g.version, brand)
    expect(stale.status).toBe(409)
    expect((await stale.json()).message).toContain(`version ${g.version} is stale`)
    expect((await ok(gwB, { tag })).facets.care).toEqual({ wash: "cold only" })
    expect((await ok(gwA, { tag })).facets.care).toEqual({ wash: "cold only" })
  })

  it("a garment cached late by a reader that read it before an update is never served after the update", async () => {
    const brand = await h.tokenFor({ userId: seed.users.brand, role: "brand", brandId: seed.brandId })
    const tag = digitalLinkOf(seed.owned)
    await ok(gwHttp, { tag })
    // knowledge's cached garment, as a reader that read the row before the update would write it back after
    const metadataKey = `${h.prefix}:knowledge:garment:${seed.owned.id}`
    const before = await h.redis.get(metadataKey)
    expect(before).toContain('"name":"Linen overshirt"')
    const g = await fetch(`${gwA}/v1/garments/${seed.owned.id}`, { headers: bearer(brand) }).then((r) => r.json())
    const patched = await fetch(`${gwA}/v1/garments/${seed.owned.id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...bearer(brand) },
      body: JSON.stringify({ version: g.version, name: "Linen overshirt, relabelled" })
    })
    expect(patched.status).toBe(200)
    // the late write lands after the update's commit and announce
    await h.redis.set(metadataKey, before!, "EX", 3600)
    for (const gw of [gwHttp, gwA, gwB]) {
      expect(((await ok(gw, { tag })) as unknown as { garment: { name: string } }).garment.name).toBe(
        "Linen overshirt, relabelled"
      )
    }
    const read = await fetch(`${gwA}/v1/garments/${seed.owned.id}`, { headers: bearer(brand) }).then((r) => r.json())
    expect(read).toMatchObject({ name: "Linen overshirt, relabelled", version: g.version + 1 })
  })

  it("a fresh answer about an ownerless garment takes its facets from the resolve: one call to knowledge", async () => {
    const facets = { care: { wash: "30C" }, origin: { country: "PT" }, materials: [{ fibre: "linen", percent: 100 }] }
    const id = await newGarment("ONE-CALL-1", "Shirt", facets)
    const context = { region: "BR", intent: "public_view" }
    // an ownerless garment scanned in this context: the gateway learns the groups policy allows there
    await ok(gwHttp, { tag: digitalLinkOf(seed.unowned), context })
    const s = await ok(gwHttp, { tag: "https://x.example/01/09506000134352/21/ONE-CALL-1", context })
    expect(groups(s.decision.allowed)).toEqual(expect.arrayContaining(["care", "materials", "origin"]))
    expect(s.facets).toEqual({ ...facets, ownership_history: [] })
    // knowledge's view was not asked for: it would have cached the view under the garment
    expect(await h.redis.keys(`${h.prefix}:knowledge:view:${id}:*`)).toEqual([])
    // the in-process path answers the same
    const a = await ok(gwA, { tag: "https://x.example/01/09506000134352/21/ONE-CALL-1", context })
    expect({ ...a, scanId: "", scannedAt: "" }).toEqual({ ...s, scanId: "", scannedAt: "" })
  })

  it("brand staff create and bulk-import garments item by item", async () => {
    const brand = await h.tokenFor({ userId: seed.users.brand, role: "brand", brandId: seed.brandId })
    const good = (serial: string) => ({ gtin: "9506000134352", serial, name: "Tee", facets: { care: { wash: "40C" } } })
    const created = await postJson(`${gwA}/v1/garments`, good("NEW-1"), bearer(brand))
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    const dup = await postJson(`${gwA}/v1/garments`, good("NEW-1"), bearer(brand))
    expect(dup.status).toBe(409)
    const imported = await postJson(
      `${gwA}/v1/garments/import`,
      { garments: [good("IMP-1"), { ...good("IMP-2"), gtin: "9506000134357" }, { serial: 5 }, good("IMP-3")] },
      bearer(brand)
    )
    expect(imported.status).toBe(200)
    expect(imported.json).toMatchObject({ created: 2, failed: 2 })
    const results = (imported.json as { results: Array<{ ok: boolean; error?: { message: string } }> }).results
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true])
    expect(results[1]!.error!.message).toContain("check digit")
    const s = await ok(gwA, { tag: "https://x.example/01/09506000134352/21/IMP-3" })
    expect(s.facets.care).toEqual({ wash: "40C" })
  })

  it("serves /openapi.json, /docs, health and metrics beside the fast lane", async () => {
    const spec = await fetch(`${gwA}/openapi.json`).then((r) => r.json())
    expect(Object.keys(spec.paths)).toContain("/v1/scans")
    const docs = await fetch(`${gwA}/docs`)
    expect(docs.status).toBe(200)
    expect(docs.headers.get("content-type")).toContain("text/html")
    expect((await fetch(`${gwA}/health/live`)).status).toBe(200)
    const metrics = await fetch(h.metricsUrl("gateway", 1)).then((r) => r.text())
    expect(metrics).toMatch(/brandme_scans_total\{intent="public_view",decision="partial"\} \d+/)
    expect(metrics).toMatch(
      /brandme_http_requests_total\{service="gateway",route="\/v1\/scans",method="POST",status="200"\}/
    )
    const missing = await fetch(`${gwA}/v1/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: "NotFound" })
  })

  it("puts every accepted scan on the scans queue exactly once (persist_scan_event jobs carry a turn's batch)", async () => {
    // the gateway records them in the scan log; the orchestrator's relay (run here once) moves it into jobs
    await h.relayScanLog()
    const conn = new IORedis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null })
    const q = new Queue("scans", { connection: conn, prefix: h.prefix })
    try {
      const jobs = await q.getJobs(["waiting", "delayed", "active", "completed", "failed", "prioritized"])
      expect(new Set(jobs.map((j) => j.id)).size).toBe(jobs.length)
      const queued: Array<string> = []
      for (const job of jobs) {
        expect(job.name).toBe("persist_scan_event")
        expect(job.opts.attempts).toBeGreaterThanOrEqual(3)
        expect(job.opts.backoff).toBeDefined()
        const batch = Schema.decodeUnknownSync(ScanBatch)(job.data)
        queued.push(...batch.scans.map((e) => e.scanId))
      }
      expect(queued.length).toBe(new Set(queued).size)
      expect(queued.sort()).toEqual([...new Set(scanIds)].sort())
    } finally {
      await q.close()
      conn.disconnect()
    }
  })
})
