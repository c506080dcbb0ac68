/**
 * The console API's role × endpoint matrix, on the gateway with real Postgres/Redis/NATS/BullMQ and real
 * sign-ins: every new endpoint is called by every kind of caller — anonymous, an owner, another owner,
 * the garment's brand, another brand's staff, an auditor, an admin. Allowed callers get a 2xx (or the
 * answer their case names); anonymous callers get 401; everyone else 403 or 404 — no unauthorised read
 * or write. Lists allowed to several roles are checked to show each caller only its own rows.
 */
import { randomBytes } from "node:crypto"
import { demoGarments } from "../../scripts/DemoData.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import {
  type Answer,
  call,
  everyone,
  openEscalation,
  type People,
  signInEveryone,
  sql,
  registerOwner,
  type Who
} from "../console/testing/ConsoleFixtures.js"

let platform: TestPlatform
let base: string
let people: People
let garmentId: string
let notificationId: string
let webhookId: string
const suffix = randomBytes(3).toString("hex")

const as = (who: Who, method: string, path: string, body?: unknown): Promise<Answer> =>
  call(base, method, path, who === "anonymous" ? undefined : people.tokens[who], body)

const newWebhook = async () => {
  const r = await as("brandA", "POST", "/v1/webhooks", {
    url: "http://127.0.0.1:9/hook",
    events: ["scan.authenticity_check"]
  })
  expect(r.status).toBe(201)
  return String(r.body.subscription.id)
}

interface Case {
  readonly name: string
  readonly allowed: ReadonlyArray<Who>
  /** status an allowed caller gets when it is not a 2xx (e.g. replaying a letter that does not exist) */
  readonly allowedStatus?: number
  readonly run: (who: Who) => Promise<Answer>
}

const cases: ReadonlyArray<Case> = [
  { name: "GET /v1/me", allowed: everyone.slice(1), run: (w) => as(w, "GET", "/v1/me") },
  { name: "GET /v1/brands", allowed: ["brandA", "brandB", "admin"], run: (w) => as(w, "GET", "/v1/brands") },
  {
    name: "POST /v1/brands",
    allowed: ["admin"],
    run: (w) => as(w, "POST", "/v1/brands", { slug: `b-${w.toLowerCase()}-${suffix}`, name: `Brand of ${w}` })
  },
  {
    name: "GET /v1/brands/:id/staff",
    allowed: ["brandA", "admin"],
    run: (w) => as(w, "GET", `/v1/brands/${people.brandA}/staff`)
  },
  {
    name: "POST /v1/brands/:id/staff",
    allowed: ["admin"],
    run: (w) =>
      as(w, "POST", `/v1/brands/${people.brandA}/staff`, {
        email: `invited-${w.toLowerCase()}-${suffix}@example.com`,
        displayName: "Invited",
        password: "invited-password"
      })
  },
  { name: "GET /v1/users", allowed: ["admin"], run: (w) => as(w, "GET", "/v1/users") },
  {
    name: "PUT /v1/users/:id/role",
    allowed: ["admin"],
    run: async (w) => {
      const email = `promote-${w.toLowerCase()}-${suffix}@example.com`
      const reg = await registerOwner(base, email, "Kp9$willow-Granite-ember", "P")
      return as(w, "PUT", `/v1/users/${reg.id}/role`, { role: "auditor", brandId: null })
    }
  },
  {
    name: "GET /v1/me/notifications",
    allowed: everyone.slice(1),
    run: (w) => as(w, "GET", "/v1/me/notifications")
  },
  {
    name: "POST /v1/me/notifications/:id/read",
    allowed: ["owner"],
    run: (w) => as(w, "POST", `/v1/me/notifications/${notificationId}/read`)
  },
  { name: "GET /v1/me/transfers", allowed: everyone.slice(1), run: (w) => as(w, "GET", "/v1/me/transfers") },
  { name: "GET /v1/garments", allowed: everyone.slice(1), run: (w) => as(w, "GET", "/v1/garments") },
  {
    name: "GET /v1/garments/:id",
    allowed: ["owner", "brandA", "auditor", "admin"],
    run: (w) => as(w, "GET", `/v1/garments/${garmentId}`)
  },
  {
    name: "GET /v1/garments/:id/versions",
    allowed: ["brandA", "auditor", "admin"],
    run: (w) => as(w, "GET", `/v1/garments/${garmentId}/versions`)
  },
  {
    name: "GET /v1/garments/:id/scans",
    allowed: ["brandA", "auditor", "admin"],
    run: (w) => as(w, "GET", `/v1/garments/${garmentId}/scans`)
  },
  {
    name: "GET /v1/garments/:id/scans/summary",
    allowed: ["brandA", "auditor", "admin"],
    run: (w) => as(w, "GET", `/v1/garments/${garmentId}/scans/summary?days=7`)
  },
  {
    name: "GET /v1/escalations",
    allowed: ["brandA", "brandB", "auditor", "admin"],
    run: (w) => as(w, "GET", "/v1/escalations")
  },
  {
    name: "POST /v1/escalations/:id/acknowledge",
    allowed: ["brandA", "admin"],
    run: async (w) => {
      const id = await openEscalation(platform.db.url, garmentId, `ack-${w}-${suffix}`)
      return as(w, "POST", `/v1/escalations/${id}/acknowledge`, { note: `checked by ${w}` })
    }
  },
  { name: "GET /v1/webhooks", allowed: ["brandA", "brandB", "admin"], run: (w) => as(w, "GET", "/v1/webhooks") },
  // the Digital Link resolver's links: brand staff for their own brand's GTINs, admins any
  { name: "GET /v1/links", allowed: ["brandA", "brandB", "admin"], run: (w) => as(w, "GET", "/v1/links") },
  {
    name: "POST /v1/links",
    allowed: ["brandA", "admin"],
    run: (w) =>
      as(w, "POST", "/v1/links", {
        gtin: demoGarments[0]!.gtin,
        linkType: "gs1:faqs",
        href: "https://brand.example/faq",
        title: "FAQ",
        lang: w === "admin" ? "fr" : "en"
      })
  },
  {
    name: "GET /v1/links/preview",
    allowed: ["brandA", "admin"],
    run: (w) =>
      as(w, "GET", `/v1/links/preview?uri=${encodeURIComponent(`https://id.example.com/01/${demoGarments[0]!.gtin}`)}`)
  },
  {
    name: "POST /v1/webhooks",
    allowed: ["brandA", "brandB", "admin"],
    run: (w) =>
      as(w, "POST", "/v1/webhooks", {
        url: "https://hooks.example.com/in",
        events: ["scan.ownership_transfer"],
        ...(w === "admin" ? { brandId: people.brandA } : {})
      })
  },
  {
    name: "PATCH /v1/webhooks/:id",
    allowed: ["brandA", "admin"],
    run: (w) => as(w, "PATCH", `/v1/webhooks/${webhookId}`, { enabled: true })
  },
  {
    name: "DELETE /v1/webhooks/:id",
    allowed: ["brandA", "admin"],
    run: async (w) => as(w, "DELETE", `/v1/webhooks/${await newWebhook()}`)
  },
  {
    name: "POST /v1/webhooks/:id/rotate",
    allowed: ["brandA", "admin"],
    run: (w) => as(w, "POST", `/v1/webhooks/${webhookId}/rotate`)
  },
  {
    name: "GET /v1/webhooks/:id/deliveries",
    allowed: ["brandA", "admin"],
    run: (w) => as(w, "GET", `/v1/webhooks/${webhookId}/deliveries`)
  },
  { name: "GET /v1/ops/services", allowed: ["admin"], run: (w) => as(w, "GET", "/v1/ops/services") },
  { name: "GET /v1/ops/queues", allowed: ["admin"], run: (w) => as(w, "GET", "/v1/ops/queues") },
  { name: "GET /v1/ops/dead-letters", allowed: ["admin"], run: (w) => as(w, "GET", "/v1/ops/dead-letters") },
  {
    name: "POST /v1/ops/dead-letters/:id/replay",
    allowed: ["admin"],
    allowedStatus: 404,
    run: (w) => as(w, "POST", "/v1/ops/dead-letters/no-such-letter/replay")
  }
]

beforeAll(async () => {
  platform = await startTestPlatform({ label: "consoleauthz", services: ["gateway"], demoData: true })
  base = platform.url("gateway")
  people = await signInEveryone(base, suffix)
  // a garment nobody owns yet (the demo data owns some of the brand's garments): the owner claims it below
  const list = await as("brandA", "GET", "/v1/garments?limit=1&status=unclaimed")
  garmentId = String(list.body.garments[0].id)
  const code = await as("brandA", "POST", `/v1/garments/${garmentId}/claim-codes`, {})
  expect((await as("owner", "POST", "/v1/claims", { code: code.body.code })).status).toBe(200)
  const [n] = await sql<{ id: string }>(
    platform.db.url,
    `INSERT INTO notifications (user_id, kind, payload, idempotency_key)
     VALUES ($1, 'scan.authenticity_check', '{"garmentId":"x"}', $2) RETURNING id::text AS id`,
    [people.ownerId, `authz-${suffix}`]
  )
  notificationId = n!.id
  webhookId = await newWebhook()
}, 120_000)
afterAll(() => platform?.close())

describe("console API: role × endpoint authorisation", () => {
  it.each(cases)("$name", async (c) => {
    const seen: Array<string> = []
    for (const who of everyone) {
      const r = await c.run(who)
      const ok = c.allowed.includes(who)
      const good = ok
        ? c.allowedStatus !== undefined
          ? r.status === c.allowedStatus
          : r.status >= 200 && r.status < 300
        : who === "anonymous"
          ? r.status === 401
          : r.status === 403 || r.status === 404
      if (!good) seen.push(`${who}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
      // every refusal is the platform's readable error shape
      if (r.status >= 400) expect(typeof r.body.message).toBe("string")
    }
    expect(seen).toEqual([])
  })

  it("shows each caller only its own rows in shared lists", async () => {
    const garmentsB = await as("brandB", "GET", "/v1/garments")
    expect(garmentsB.body.garments).toEqual([])
    expect((await as("brandB", "GET", `/v1/garments?brandId=${people.brandA}`)).status).toBe(403)
    const mine = await as("owner", "GET", "/v1/garments")
    expect(mine.body.garments.map((g: { id: string }) => g.id)).toContain(garmentId)
    expect(mine.body.garments.every((g: { ownerUserId: string }) => g.ownerUserId === people.ownerId)).toBe(true)
    expect((await as("otherOwner", "GET", "/v1/garments")).body.garments).toEqual([])

    const esc = await openEscalation(platform.db.url, garmentId, `scope-${suffix}`)
    const ids = async (w: Who) =>
      (await as(w, "GET", "/v1/escalations?limit=100")).body.escalations.map((e: { id: string }) => e.id)
    expect(await ids("brandA")).toContain(esc)
    expect(await ids("auditor")).toContain(esc)
    expect(await ids("brandB")).not.toContain(esc)

    const hooks = async (w: Who) =>
      (await as(w, "GET", "/v1/webhooks")).body.subscriptions.map((s: { id: string }) => s.id)
    expect(await hooks("brandA")).toContain(webhookId)
    expect(await hooks("brandB")).not.toContain(webhookId)
    const brands = (await as("brandB", "GET", "/v1/brands")).body.brands.map((b: { id: string }) => b.id)
    expect(brands).toEqual([people.brandB])
  })

  it("leaves nothing changed after refused writes", async () => {
    const before = await as("brandA", "GET", "/v1/webhooks")
    expect(
      (await as("brandB", "PATCH", `/v1/webhooks/${webhookId}`, { url: "https://evil.example.com/" })).status
    ).toBe(404)
    expect((await as("brandB", "DELETE", `/v1/webhooks/${webhookId}`)).status).toBe(404)
    expect((await as("brandA", "GET", "/v1/webhooks")).body).toEqual(before.body)
    const esc = await openEscalation(platform.db.url, garmentId, `refused-${suffix}`)
    expect((await as("brandB", "POST", `/v1/escalations/${esc}/acknowledge`, { note: "not mine" })).status).toBe(404)
    expect((await as("auditor", "POST", `/v1/escalations/${esc}/acknowledge`, { note: "read only" })).status).toBe(403)
    const [row] = await sql<{ status: string }>(platform.db.url, "SELECT status FROM escalations WHERE id = $1", [esc])
    expect(row?.status).toBe("open")
  })

  it("pages garments with a cursor and answers a bad cursor or filter readably", async () => {
    const first = await as("admin", "GET", "/v1/garments?limit=2")
    expect(first.body.garments).toHaveLength(2)
    const second = await as("admin", "GET", `/v1/garments?limit=2&cursor=${first.body.nextCursor}`)
    const seen = [...first.body.garments, ...second.body.garments].map((g: { id: string }) => g.id)
    expect(new Set(seen).size).toBe(seen.length)
    const search = await as("brandA", "GET", "/v1/garments?q=merino")
    expect(search.body.garments.map((g: { name: string }) => g.name)).toEqual(["Merino crewneck"])
    const bad = await as("admin", "GET", "/v1/garments?cursor=bm90LWEtY3Vyc29y")
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/cursor/)
  })

  it("ends a person's sessions when an admin changes their role", async () => {
    const email = `role-change-${suffix}@example.com`
    const reg = await registerOwner(base, email, "Rt6%maple-Cobalt-drift", "R")
    const token = reg.token
    expect((await call(base, "GET", "/v1/me", token)).body.role).toBe("owner")
    const set = await as("admin", "PUT", `/v1/users/${reg.id}/role`, { role: "brand", brandId: people.brandB })
    expect(set.body).toMatchObject({ role: "brand", brandId: people.brandB, email })
    expect((await call(base, "GET", "/v1/me", token)).status).toBe(401)
  })
})
