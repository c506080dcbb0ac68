import fc from "fast-check"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { withCheckDigit } from "../../shared/domain/Gtin.js"
import { type Harness, makeHarness, type Seed } from "./testing/ScanPathHarness.js"

/**
 * ≥ 2,000 malformed scan requests: bad JSON, wrong types, huge bodies, wrong GTIN check digits,
 * bad/expired/forged tokens, injection strings. Every answer must be a JSON 4xx naming the problem.
 */
let h: Harness
let seed: Seed
let gateway: string
let expired: string
let forged: string
let revoked: string
/** an address with a low limit: the rate-limit paths */
const HAMMER_IP = "198.51.100.77"

beforeAll(async () => {
  h = await makeHarness("fuzz-itest")
  seed = await h.seed()
  // behind one ingress hop, as deployed: the hammering address is the X-Forwarded-For entry it appends
  gateway = await h.startGateway(0, "inprocess", {
    RATE_LIMIT_OVERRIDES: `ip:${HAMMER_IP}=5/60`,
    HTTP_TRUSTED_PROXY_HOPS: "1"
  })
  expired = (await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null }, { ttl: -30 })).token
  const r = await h.tokenFor({ userId: seed.users.owner, role: "owner", brandId: null })
  await r.revoke()
  revoked = r.token
  forged = await new jose.SignJWT({ role: "admin", sid: "x" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(seed.users.admin)
    .setIssuer(h.config.auth.jwtIssuer)
    .setAudience("brandme")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode("not-the-platform-secret-0123456789abcdef"))
})

afterAll(async () => {
  await h?.close()
})

interface Req {
  readonly body: string
  readonly headers: Record<string, string>
}

const injections = [
  "'; DROP TABLE garments; --",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  ["$", "{jndi:ldap://evil/a}"].join(""),
  "{{7*7}}",
  "%00%0d%0aSet-Cookie:x=1",
  "\u0000\u202e\ud83d\ude00",
  "https://e.com/01/09506000134352/21/' OR '1'='1",
  "https://e.com/01/09506000134352/21/%27%3B--"
]

const ascii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60
})
const badGtinTag = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(..."0123456789".split("")), minLength: 13, maxLength: 13 }),
    fc.integer({ min: 1, max: 9 })
  )
  .map(([body, d]) => {
    const good = withCheckDigit(body)
    return `https://id.example.com/01/${good.slice(0, -1)}${(Number(good.slice(-1)) + d) % 10}/21/S1`
  })

const arbitraries = (tokens: { expired: string; forged: string; revoked: string; validTag: string }) =>
  fc.oneof(
    // not JSON at all
    fc
      .string({ maxLength: 200 })
      .filter((s) => {
        try {
          JSON.parse(s)
          return false
        } catch {
          return true
        }
      })
      .map((body): Req => ({ body, headers: {} })),
    // JSON of the wrong shape or types
    fc
      .anything({ maxDepth: 3 })
      .filter((v) => typeof v !== "object" || v === null || typeof Reflect.get(v, "tag") !== "string")
      .map((v): Req => ({ body: JSON.stringify(v) ?? "null", headers: {} })),
    fc
      .record({ tag: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())) })
      .map((v): Req => ({ body: JSON.stringify(v), headers: {} })),
    fc
      .record({
        tag: fc.constant(tokens.validTag),
        context: fc.record({ region: fc.oneof(ascii, fc.integer()), intent: fc.oneof(ascii, fc.constant("root")) })
      })
      .map((v): Req => ({ body: JSON.stringify(v), headers: {} })),
    // wrong GTIN check digits, injection strings, random tags
    badGtinTag.map((tag): Req => ({ body: JSON.stringify({ tag }), headers: {} })),
    fc.constantFrom(...injections).map((tag): Req => ({ body: JSON.stringify({ tag }), headers: {} })),
    ascii.map((tag): Req => ({ body: JSON.stringify({ tag }), headers: {} })),
    // bad, expired, forged, revoked tokens (the tag is valid, so only the token is wrong)
    fc
      .oneof(
        ascii.map((t) => `Bearer ${t.replace(/\s/g, "")}x`),
        ascii.map((t) => `Basic ${t}`),
        fc.constantFrom(
          `Bearer ${tokens.expired}`,
          `Bearer ${tokens.forged}`,
          `Bearer ${tokens.revoked}`,
          `Bearer ${tokens.forged.split(".").slice(0, 2).join(".")}.`,
          "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
        )
      )
      .map((authorization): Req => ({ body: JSON.stringify({ tag: tokens.validTag }), headers: { authorization } })),
    // garbage client identities (forwarded-for, API keys) on top of a malformed body
    fc
      .tuple(
        fc.oneof(ascii, fc.constantFrom(...injections.filter((i) => /^[\x20-\x7e]*$/.test(i)))),
        fc.constantFrom("x-forwarded-for", "x-api-key"),
        fc.constantFrom("{", '{"tag":5}', '{"tag":"https://e.com/01/123/21/x"}')
      )
      .map(([value, name, body]): Req => ({ body, headers: { [name]: value.trim() === "" ? "x" : value } })),
    // oversized idempotency keys
    fc
      .string({ minLength: 201, maxLength: 400, unit: fc.constantFrom("a", "b", "-") })
      .map((k): Req => ({ body: JSON.stringify({ tag: tokens.validTag }), headers: { "idempotency-key": k } }))
  )

const send = async (r: Req) => {
  const res = await fetch(`${gateway}/v1/scans`, {
    method: "POST",
    headers: { "content-type": "application/json", ...r.headers },
    body: r.body
  })
  const text = await res.text()
  return { status: res.status, type: res.headers.get("content-type") ?? "", text }
}

const check = (r: Req, res: { status: number; type: string; text: string }) => {
  const where = `${res.status} for ${r.body.slice(0, 120)} ${JSON.stringify(r.headers).slice(0, 120)}: ${res.text.slice(0, 200)}`
  expect(res.status, where).toBeGreaterThanOrEqual(400)
  expect(res.status, where).toBeLessThan(500)
  expect(res.type, where).toContain("application/json")
  const body: unknown = JSON.parse(res.text)
  expect(body, where).toMatchObject({ error: expect.any(String), message: expect.any(String) })
  expect((body as { message: string }).message.length, where).toBeGreaterThan(3)
}

describe("scan fuzz", () => {
  it("answers ≥ 2,000 malformed requests with a JSON 4xx that names the problem", async () => {
    const validTag = `https://id.example.com/01/${seed.owned.gtin}/21/${seed.owned.serial}`
    const requests = fc.sample(arbitraries({ expired, forged, revoked, validTag }), { numRuns: 2000, seed: 4242 })
    // huge bodies: over the 64 KiB limit, declared and streamed
    for (let i = 0; i < 10; i++) requests.push({ body: JSON.stringify({ tag: "x".repeat(70_000 + i) }), headers: {} })
    expect(requests.length).toBeGreaterThanOrEqual(2000)
    const statuses = new Map<number, number>()
    let next = 0
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!
        const res = await send(r)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        check(r, res)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    // the mix really exercised the main failure kinds
    for (const s of [400, 401, 413, 422]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(0)
  })

  it("rate-limit paths: a hammering address gets JSON 429s with Retry-After, malformed or not", async () => {
    const validTag = `https://id.example.com/01/${seed.owned.gtin}/21/${seed.owned.serial}`
    const requests = fc
      .sample(arbitraries({ expired, forged, revoked, validTag }), { numRuns: 200, seed: 77 })
      .map((r) => ({ ...r, headers: { ...r.headers, "x-forwarded-for": HAMMER_IP } }))
    const results = await Promise.all(
      requests.map(async (r) => {
        const res = await fetch(`${gateway}/v1/scans`, {
          method: "POST",
          headers: { "content-type": "application/json", ...r.headers },
          body: r.body
        })
        return {
          r,
          res: { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() },
          retryAfter: res.headers.get("retry-after")
        }
      })
    )
    const limited = results.filter((x) => x.res.status === 429)
    // malformed requests count too: garbage is no way around the limit (5 admitted, the rest refused)
    expect(limited.length).toBe(requests.length - 5)
    for (const x of results) {
      check(x.r, x.res)
      if (x.res.status === 429) {
        expect(Number(x.retryAfter)).toBeGreaterThanOrEqual(1)
        expect(JSON.parse(x.res.text)).toMatchObject({ error: "RateLimited", details: { limit: "ip" } })
      }
    }
  })
})
