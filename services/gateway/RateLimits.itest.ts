import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { digitalLinkOf, type Harness, makeHarness, postJson, type Seed } from "./testing/ScanPathHarness.js"

/**
 * The public host's rate limits on the real Redis: per IP (X-Forwarded-For's last hop, as behind the
 * ingress) and per client (a verified user, an API key), on the scan fast lane (warm and full path)
 * and on the router's routes; 429 with Retry-After and a JSON error naming the limit.
 */
let h: Harness
let seed: Seed
let gw: string

const PER_IP = 6
const PER_CLIENT = 3

beforeAll(async () => {
  h = await makeHarness("ratelimit-itest")
  seed = await h.seed()
  gw = await h.startGateway(0, "inprocess", {
    RATE_LIMIT_PER_IP: `${PER_IP}/60`,
    RATE_LIMIT_PER_CLIENT: `${PER_CLIENT}/60`,
    RATE_LIMIT_OVERRIDES: "ip:192.0.2.200=1000/60",
    // as behind the ingress (the stacks set this); the local default is 0
    HTTP_TRUSTED_PROXY_HOPS: "1"
  })
})

afterAll(async () => {
  await h?.close()
})

const from = (ip: string, headers: Record<string, string> = {}) => ({ "x-forwarded-for": ip, ...headers })
const scanFrom = (ip: string, headers: Record<string, string> = {}, tag = digitalLinkOf(seed.unowned)) =>
  postJson(`${gw}/v1/scans`, { tag, context: { region: "FR" } }, from(ip, headers))

const expectLimited = (r: Awaited<ReturnType<typeof postJson>>, limit: "ip" | "client") => {
  expect(r.status, JSON.stringify(r.json)).toBe(429)
  const retryAfter = Number(r.headers.get("retry-after"))
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(60)
  expect(r.headers.get("content-type")).toContain("application/json")
  expect(r.json).toEqual({
    error: "RateLimited",
    message: expect.stringContaining(`${limit} limit`),
    details: { limit, retryAfterSeconds: retryAfter }
  })
}

describe("rate limits on the gateway", () => {
  it("per IP: anonymous scans (cold, then warm) are refused past the limit; other IPs are unaffected", async () => {
    const statuses: Array<number> = []
    for (let i = 0; i < PER_IP; i++) statuses.push((await scanFrom("203.0.113.10")).status)
    expect(statuses).toEqual(Array.from({ length: PER_IP }, () => 200))
    expectLimited(await scanFrom("203.0.113.10"), "ip")
    // a refusal is not charged: still refused, still naming ip
    expectLimited(await scanFrom("203.0.113.10"), "ip")
    expect((await scanFrom("203.0.113.11")).status).toBe(200)
    // only the last hop counts (it is what our ingress saw); the client-supplied hops are ignored
    expectLimited(await scanFrom("198.51.100.1, 203.0.113.10"), "ip")
    expect((await scanFrom("203.0.113.10, 203.0.113.12")).status).toBe(200)
  })

  it("per client: a signed-in user is refused past the client limit; another user on the same IP is not", async () => {
    const ip = "203.0.113.20"
    const owner = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    const other = await h.tokenFor({ userId: seed.users.otherOwner, role: "owner", brandId: null })
    const as = (t: { token: string }) => ({ authorization: `Bearer ${t.token}` })
    for (let i = 0; i < PER_CLIENT; i++) expect((await scanFrom(ip, as(owner))).status).toBe(200)
    expectLimited(await scanFrom(ip, as(owner)), "client")
    // the same user from another address is the same client
    expectLimited(await scanFrom("203.0.113.21", as(owner)), "client")
    // a second session of the same user is still that user
    const again = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
    expectLimited(await scanFrom("203.0.113.22", as(again)), "client")
    expect((await scanFrom(ip, as(other))).status).toBe(200)
  })

  it("finding 1: a token plus an X-Api-Key that does not verify is a 401, not a fresh bucket", async () => {
    const ip = "203.0.113.25"
    const user = await h.tokenFor({ userId: randomUUID(), role: "owner", brandId: null })
    const as = { authorization: `Bearer ${user.token}` }
    for (let i = 0; i < PER_CLIENT; i++) expect((await scanFrom(ip, as)).status).toBe(200)
    expectLimited(await scanFrom(ip, as), "client")
    const random = await scanFrom(ip, { ...as, "x-api-key": `k${Math.random()}` })
    expect(random.status).toBe(401)
    expect(random.json).toMatchObject({ error: "Unauthorized", message: expect.stringMatching(/device key/) })
    const wellFormed = await scanFrom(ip, { ...as, "x-api-key": `bm_${"a".repeat(12)}_${"b".repeat(64)}` })
    expect(wellFormed.status).toBe(401)
    // routed routes too
    const list = await fetch(`${gw}/v1/consents`, { headers: from(ip, { "x-api-key": "whatever" }) })
    expect(list.status).toBe(401)
  })

  it("finding 1: device keys from POST /v1/devices are verified, limited per device, scoped to scans, revocable", async () => {
    const admin = await h.tokenFor({ userId: seed.users.admin, role: "admin", brandId: null })
    const as = { authorization: `Bearer ${admin.token}` }
    const create = async (name: string) => {
      const r = await postJson(`${gw}/v1/devices`, { name }, from("203.0.113.31", as))
      expect(r.status, JSON.stringify(r.json)).toBe(201)
      const body = r.json as { id: string; apiKey: string }
      return body
    }
    const one = await create("scanner one")
    const two = await create("scanner two")
    const ip = "203.0.113.30"
    for (let i = 0; i < PER_CLIENT; i++) expect((await scanFrom(ip, { "x-api-key": one.apiKey })).status).toBe(200)
    expectLimited(await scanFrom(ip, { "x-api-key": one.apiKey }), "client")
    // scoped: a device key opens scans only
    const elsewhere = await fetch(`${gw}/v1/consents`, { headers: from("203.0.113.32", { "x-api-key": two.apiKey }) })
    expect(elsewhere.status).toBe(401)
    // revoked before its first use here: refused
    const revoke = await fetch(`${gw}/v1/devices/${two.id}`, { method: "DELETE", headers: from("203.0.113.31", as) })
    expect(revoke.status).toBe(204)
    const revoked = await scanFrom("203.0.113.33", { "x-api-key": two.apiKey })
    expect(revoked.status).toBe(401)
    expect(revoked.json).toMatchObject({ message: "device key has been revoked" })
  })

  it("every routed public route is limited too; probes and scrapes are not", async () => {
    const ip = "203.0.113.40"
    const list = () => fetch(`${gw}/v1/consents`, { headers: from(ip) })
    for (let i = 0; i < PER_IP; i++) expect((await list()).status).toBe(401)
    const refused = await list()
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(refused.headers.get("x-request-id")).toEqual(expect.any(String))
    expect(await refused.json()).toMatchObject({ error: "RateLimited", details: { limit: "ip" } })
    // the IP's one bucket covers every public route, scans included
    expectLimited(await scanFrom(ip), "ip")
    const login = await postJson(`${gw}/v1/auth/login`, { email: "a@b.example", password: "x" }, from(ip))
    expectLimited(login, "ip")
    for (let i = 0; i < PER_IP * 2; i++) {
      expect((await fetch(`${gw}/health/live`, { headers: from(ip) })).status).toBe(200)
    }
    // /metrics is not on the service port any more (an unknown path there: 404); its own port is never limited
    expect((await fetch(`${gw}/metrics`, { headers: from("203.0.113.41") })).status).toBe(404)
    expect((await fetch(h.metricsUrl("gateway"), { headers: from(ip) })).status).toBe(200)
    const metrics = await fetch(h.metricsUrl("gateway")).then((r) => r.text())
    expect(metrics).toMatch(/brandme_rate_limited_total\{service="gateway",limit="ip"\} \d+/)
    expect(metrics).toMatch(/brandme_rate_limited_total\{service="gateway",limit="client"\} \d+/)
  })

  it("oversized requests to routed routes are charged too (413s until the limit, then 429)", async () => {
    const ip = "203.0.113.60"
    const huge = JSON.stringify({ email: "a@b.example", password: "x".repeat(70_000), displayName: "A" })
    const register = () => postJson(`${gw}/v1/users`, huge, from(ip))
    for (let i = 0; i < PER_IP; i++) expect((await register()).status).toBe(413)
    expectLimited(await register(), "ip")
  })

  it("finding 2: with the local default (no HTTP_TRUSTED_PROXY_HOPS) a forged X-Forwarded-For buys no fresh bucket", async () => {
    const direct = await h.startGateway(1, "inprocess", { RATE_LIMIT_PER_IP: `${PER_IP}/60` })
    const scanVia = (i: number) =>
      postJson(`${direct}/v1/scans`, { tag: digitalLinkOf(seed.unowned) }, { "x-forwarded-for": `198.51.100.${i}` })
    for (let i = 0; i < PER_IP; i++) expect((await scanVia(i)).status).toBe(200)
    expectLimited(await scanVia(99), "ip")
  })

  it("a configured override gives one subject a higher limit", async () => {
    const statuses = new Set<number>()
    for (let i = 0; i < PER_IP * 4; i++) statuses.add((await scanFrom("192.0.2.200")).status)
    expect([...statuses]).toEqual([200])
  })

  it("concurrent bursts hold the limit exactly (the warm lane batches a turn's checks in one script run)", async () => {
    const ip = "203.0.113.50"
    // warm the answer (another IP; an answer is kept on its second build)
    await scanFrom("203.0.113.51")
    await scanFrom("203.0.113.51")
    const all = await Promise.all(Array.from({ length: 40 }, () => scanFrom(ip)))
    expect(all.filter((r) => r.status === 200)).toHaveLength(PER_IP)
    for (const r of all.filter((r) => r.status !== 200)) expectLimited(r, "ip")
  })
})
