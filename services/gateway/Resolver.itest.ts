/**
 * The GS1 Digital Link resolver through HTTP, on the gateway with real Postgres, Redis, NATS and the
 * orchestrator's workers: links managed per brand, inheritance (GTIN → serial), link types and
 * languages, the linkset's JSON shape, HEAD, compressed links, 400/404, the passport page (also in
 * headless Chromium at 390 px with axe-core) and each resolution in scan_events exactly once.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { type Browser, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEMO_COMPANY_PREFIX } from "../../scripts/DemoData.js"
import { compressKey } from "../../shared/domain/Gs1DigitalLink.js"
import { withCheckDigit } from "../../shared/domain/Gtin.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { call, type People, signInEveryone, sql } from "../console/testing/ConsoleFixtures.js"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")
const SHOTS = join(import.meta.dirname, "..", "..", "test-results", "resolver")
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
const suffix = randomBytes(3).toString("hex")

let platform: TestPlatform
let base: string
let people: People
/** a GTIN of the demo brand (its company prefix) carried by three garments: S1, S2 and S3 */
const gtin = `0${withCheckDigit(`${DEMO_COMPANY_PREFIX}${String(70000 + (randomBytes(2).readUInt16BE(0) % 9999)).slice(-5)}`)}`
/** a second GTIN of the brand without any link: its items fall to the passport page */
const bare = `0${withCheckDigit(`${DEMO_COMPANY_PREFIX}${String(80000 + (randomBytes(2).readUInt16BE(0) % 9999)).slice(-5)}`)}`
const serials = { s1: `S1-${suffix}`, s2: `S2-${suffix}`, s3: `S3-${suffix}`, b1: `B1-${suffix}` }
const garmentIds: Record<string, string> = {}
/** the scan id of every GET resolution of an item (x-scan-id) */
const scanIds: Array<string> = []

const as = (who: keyof People["tokens"] | "anonymous", method: string, path: string, body?: unknown) =>
  call(base, method, path, who === "anonymous" ? undefined : people.tokens[who], body)

const resolve = async (path: string, headers: Record<string, string> = {}, method = "GET") => {
  const res = await fetch(`${base}${path}`, { method, headers, redirect: "manual" })
  const text = await res.text()
  const id = res.headers.get("x-scan-id")
  if (id !== null) scanIds.push(id)
  return { status: res.status, headers: res.headers, text }
}
const location = async (path: string, headers: Record<string, string> = {}) => {
  const r = await resolve(path, headers)
  expect(r.status, `${path}: ${r.text}`).toBe(307)
  return r.headers.get("location")
}

const link = async (body: Record<string, unknown>, who: keyof People["tokens"] = "brandA") => {
  const r = await as(who, "POST", "/v1/links", { gtin, ...body })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body as { id: string }
}

const facets = {
  materials: [
    { fibre: "organic cotton", percent: 95 },
    { fibre: "elastane", percent: 5 }
  ],
  origin: { country: "Portugal", facility: "Guimarães knit mill" },
  care: { wash: "30 °C gentle", dry: "line dry", endOfLife: "textile recycling bank" },
  certifications: [{ name: "GOTS", id: "CU-123456" }]
}

beforeAll(async () => {
  platform = await startTestPlatform({
    label: "resolver",
    services: ["gateway", "orchestrator", "compliance"],
    demoData: true,
    // checkpoints every second, so the passport can show an inclusion proof
    env: { HTTP_TRUSTED_PROXY_HOPS: "1", BEAT_CHECKPOINT_EVERY_MS: "1000" }
  })
  base = platform.url("gateway")
  people = await signInEveryone(base, suffix)
  for (const [name, serial, g] of [
    ["s1", serials.s1, gtin],
    ["s2", serials.s2, gtin],
    ["s3", serials.s3, gtin],
    ["b1", serials.b1, bare]
  ] as const) {
    const r = await as("brandA", "POST", "/v1/garments", {
      gtin: g,
      serial,
      ...(name === "s3" ? { batch: "LOT7" } : {}),
      name: `Tee ${name}`,
      facets
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    garmentIds[name] = String(r.body.id)
  }
  await link({ linkType: "gs1:defaultLink", href: "https://brand.example/en/tee", title: "Tee", lang: "en" })
  await link({ linkType: "gs1:defaultLink", href: "https://brand.example/fr/tee", title: "T-shirt", lang: "fr" })
  await link({ linkType: "gs1:pip", href: "https://brand.example/pip", title: "Product information" })
  await link({
    linkType: "gs1:careInstructions",
    href: "https://brand.example/care",
    title: "Care",
    lang: "en",
    passQualifiers: true
  })
  // S2 overrides the default link; the lot LOT7 has its own certification page
  await link({ serial: serials.s2, linkType: "gs1:defaultLink", href: "https://brand.example/s2", title: "Your tee" })
  await link({ lot: "LOT7", linkType: "gs1:certificationInfo", href: "https://brand.example/lot7", title: "Lot 7" })
}, 180_000)

afterAll(async () => {
  await platform?.close()
})

describe("link management API (authorised per brand)", () => {
  it("brand staff link only their own brand's GTINs; admins any; others are refused", async () => {
    const body = { gtin, linkType: "gs1:faqs", href: "https://brand.example/faq", title: "FAQ" }
    expect((await as("anonymous", "POST", "/v1/links", body)).status).toBe(401)
    expect((await as("owner", "POST", "/v1/links", body)).status).toBe(403)
    expect((await as("auditor", "POST", "/v1/links", body)).status).toBe(403)
    const other = await as("brandB", "POST", "/v1/links", body)
    expect(other.status).toBe(403)
    expect(other.body.message).toMatch(/not your brand's/)
    const admin = await as("admin", "POST", "/v1/links", body)
    expect(admin.status).toBe(201)
    expect(admin.body.brandId).toBe(people.brandA)
    // the same entry, type and language twice is a conflict
    expect((await as("brandA", "POST", "/v1/links", body)).status).toBe(409)
    // another brand's link answers like a missing one; nothing changes
    expect((await as("brandB", "PATCH", `/v1/links/${admin.body.id}`, { title: "mine" })).status).toBe(404)
    expect((await as("brandB", "DELETE", `/v1/links/${admin.body.id}`)).status).toBe(404)
    expect((await as("brandB", "GET", "/v1/links")).body.links).toEqual([])
    const updated = await as("brandA", "PATCH", `/v1/links/${admin.body.id}`, { title: "Questions" })
    expect(updated.body.title).toBe("Questions")
    expect((await as("brandA", "DELETE", `/v1/links/${admin.body.id}`)).status).toBe(204)
    const mine = await as("brandA", "GET", `/v1/links?gtin=${gtin}`)
    expect(mine.body.links.map((l: { linkType: string }) => l.linkType).sort()).toEqual([
      "gs1:careInstructions",
      "gs1:certificationInfo",
      "gs1:defaultLink",
      "gs1:defaultLink",
      "gs1:defaultLink",
      "gs1:pip"
    ])
  })

  it("answers bad input readably: a wrong check digit, an unknown link type", async () => {
    const bad = await as("brandA", "POST", "/v1/links", {
      gtin: `${gtin.slice(0, -1)}${(Number(gtin.slice(-1)) + 1) % 10}`,
      linkType: "gs1:pip",
      href: "https://brand.example/x",
      title: "X"
    })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/check digit/)
    const type = await as("brandA", "POST", "/v1/links", {
      gtin,
      linkType: "gs1:nope",
      href: "https://x.example",
      title: "X"
    })
    expect(type.status).toBe(400)
    expect(type.body.message).toMatch(/linkType/)
  })

  it("previews a URI's resolution as the resolver serves it", async () => {
    const r = await as(
      "brandA",
      "GET",
      `/v1/links/preview?uri=${encodeURIComponent(`https://id.example.com/01/${gtin}/21/${serials.s2}`)}&lang=fr`
    )
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.defaultLink).toBe("https://brand.example/s2")
    expect(r.body.compressed).toBe(compressKey({ gtin, cpv: null, lot: null, serial: serials.s2 }))
    const levels = Object.fromEntries(
      r.body.links.map((l: { linkType: string; level: string }) => [l.linkType, l.level])
    )
    expect(levels).toMatchObject({ "gs1:defaultLink": "serial", "gs1:pip": "gtin" })
    expect(
      (await as("brandB", "GET", `/v1/links/preview?uri=${encodeURIComponent(`https://id.example.com/01/${gtin}`)}`))
        .status
    ).toBe(403)
    const bad = await as(
      "brandA",
      "GET",
      `/v1/links/preview?uri=${encodeURIComponent(`https://id.example.com/01/${gtin}/21/A/10/B`)}`
    )
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/order 22, 10, 21/)
  })
})

describe("GS1 resolver: GET/HEAD /01/{gtin}[/22/…][/10/…][/21/…]", () => {
  it("inheritance: a serial without an entry gets its GTIN's links; a serial override wins, type by type", async () => {
    expect(await location(`/01/${gtin}/21/${serials.s1}`, { "accept-language": "en" })).toBe(
      "https://brand.example/en/tee"
    )
    expect(await location(`/01/${gtin}/21/${serials.s2}`, { "accept-language": "en" })).toBe("https://brand.example/s2")
    // S2 has no care entry of its own: the GTIN's, with the key passed on as asked
    expect(await location(`/01/${gtin}/21/${serials.s2}?linkType=gs1:careInstructions`)).toBe(
      `https://brand.example/care?01=${gtin}&21=${serials.s2}`
    )
    // the lot's entry applies to its items only
    expect(await location(`/01/${gtin}/10/LOT7/21/${serials.s3}?linkType=gs1:certificationInfo`)).toBe(
      "https://brand.example/lot7"
    )
    expect(
      await location(`/01/${gtin}/21/${serials.s1}?linkType=gs1:certificationInfo`, { "accept-language": "en" })
    ).toBe("https://brand.example/en/tee")
  })

  it("link types and languages: Accept-Language picks the default link's language; ?linkType= picks a link", async () => {
    expect(await location(`/01/${gtin}/21/${serials.s1}`, { "accept-language": "fr-CH, en;q=0.5" })).toBe(
      "https://brand.example/fr/tee"
    )
    expect(await location(`/01/${gtin}/21/${serials.s1}`, { "accept-language": "de, fr;q=0.8" })).toBe(
      "https://brand.example/fr/tee"
    )
    expect(await location(`/01/${gtin}/21/${serials.s1}?linkType=gs1:pip`)).toBe("https://brand.example/pip")
    // the GTIN alone resolves too (no scan: it names no item)
    const before = scanIds.length
    expect(await location(`/01/${gtin}?linkType=gs1:pip`)).toBe("https://brand.example/pip")
    expect(scanIds.length).toBe(before)
  })

  it("?linkType=all and Accept: application/linkset+json answer the RFC 9264 linkset, with CORS", async () => {
    const viaParam = await resolve(`/01/${gtin}/21/${serials.s2}?linkType=all`, { origin: "https://app.example" })
    const viaAccept = await resolve(`/01/${gtin}/21/${serials.s2}`, { accept: "application/linkset+json" })
    for (const r of [viaParam, viaAccept]) {
      expect(r.status).toBe(200)
      expect(r.headers.get("content-type")).toMatch(/^application\/linkset\+json/)
      expect(r.headers.get("access-control-allow-origin")).toBe("*")
    }
    const body = JSON.parse(viaParam.text)
    expect(JSON.parse(viaAccept.text)).toEqual(body)
    expect(Object.keys(body)).toEqual(["linkset"])
    expect(body.linkset).toHaveLength(1)
    const ctx = body.linkset[0]
    expect(ctx.anchor).toBe(`${base}/01/${gtin}/21/${serials.s2}`)
    expect(ctx["https://gs1.org/voc/defaultLink"]).toEqual([{ href: "https://brand.example/s2", title: "Your tee" }])
    expect(ctx["https://gs1.org/voc/pip"]).toEqual([
      { href: "https://brand.example/pip", title: "Product information" }
    ])
    expect(ctx["https://gs1.org/voc/careInstructions"]).toEqual([
      { href: `https://brand.example/care?01=${gtin}&21=${serials.s2}`, title: "Care", hreflang: ["en"] }
    ])
    expect(ctx["https://id.brandme.io/voc/passport"][0]).toMatchObject({
      href: `${ctx.anchor}?linkType=brandme:passport`,
      hreflang: ["en", "fr", "de"],
      type: "text/html"
    })
  })

  it("a Link header on every answer: the linkset and each link", async () => {
    const r = await resolve(`/01/${gtin}/21/${serials.s1}`, { "accept-language": "en" })
    const header = r.headers.get("link") ?? ""
    expect(header).toContain(
      `<${base}/01/${gtin}/21/${serials.s1}?linkType=all>; rel="linkset"; type="application/linkset+json"`
    )
    expect(header).toContain('<https://brand.example/pip>; rel="https://gs1.org/voc/pip"; title="Product information"')
    expect(header).toContain('rel="https://gs1.org/voc/defaultLink"; title="T-shirt"; hreflang="fr"')
    const passport = await resolve(`/01/${bare}/21/${serials.b1}`)
    expect(passport.headers.get("link")).toContain('rel="https://gs1.org/voc/defaultLink"')
  })

  it("HEAD answers with GET's status and headers, no body and no scan", async () => {
    const before = scanIds.length
    const head = await resolve(`/01/${gtin}/21/${serials.s1}`, { "accept-language": "fr" }, "HEAD")
    expect(head.status).toBe(307)
    expect(head.headers.get("location")).toBe("https://brand.example/fr/tee")
    expect(head.headers.get("link")).toContain('rel="linkset"')
    expect(head.text).toBe("")
    expect(head.headers.get("x-scan-id")).toBeNull()
    const page = await resolve(`/01/${bare}/21/${serials.b1}`, {}, "HEAD")
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toMatch(/^text\/html/)
    expect(scanIds.length).toBe(before)
  })

  it("compressed links resolve the same as their uncompressed form", async () => {
    for (const [key, query] of [
      [{ gtin, cpv: null, lot: null, serial: serials.s1 }, ""],
      [{ gtin, cpv: null, lot: null, serial: serials.s2 }, "?linkType=gs1:careInstructions"],
      [{ gtin, cpv: null, lot: "LOT7", serial: serials.s3 }, "?linkType=gs1:certificationInfo"]
    ] as const) {
      const plain = await resolve(`/01/${gtin}${key.lot !== null ? `/10/${key.lot}` : ""}/21/${key.serial}${query}`, {
        "accept-language": "fr"
      })
      const packed = await resolve(`/${compressKey(key)}${query}`, { "accept-language": "fr" })
      expect(packed.status).toBe(plain.status)
      expect(packed.headers.get("location")).toBe(plain.headers.get("location"))
      expect(packed.headers.get("link")).toBe(plain.headers.get("link"))
    }
    const set = JSON.parse(
      (await resolve(`/${compressKey({ gtin, cpv: null, lot: null, serial: serials.s1 })}?linkType=all`)).text
    )
    expect(set.linkset[0].anchor).toBe(`${base}/01/${gtin}/21/${serials.s1}`)
  })

  it("400 names the problem of a malformed link; 404 for what is not known", async () => {
    const cases: Array<[string, number, RegExp]> = [
      [`/01/${gtin.slice(0, -1)}${(Number(gtin.slice(-1)) + 1) % 10}/21/X`, 400, /check digit is/],
      [`/01/${gtin}/21/${serials.s1}/10/LOT7`, 400, /order 22, 10, 21: AI 10 cannot come after AI 21/],
      [`/01/${gtin}/17/290331`, 400, /not a key qualifier of GTIN/],
      [`/01/${gtin}?21=${serials.s1}`, 400, /put it in the path/],
      [`/01/${gtin}/21/${"A".repeat(21)}`, 400, /at most 20/],
      ["/AQnYUc1gmgAAAAAAAAAAAAAAAAAAA", 400, /compressed Digital Link/],
      [`/01/${withCheckDigit("0999999999999")}`, 404, /no product with GTIN/],
      [`/01/${gtin}/21/NO-SUCH-${suffix}`, 404, /no item/],
      ["/favicon.ico", 404, /no route/]
    ]
    for (const [path, status, message] of cases) {
      const r = await resolve(path)
      expect(r.status, `${path}: ${r.text}`).toBe(status)
      expect(JSON.parse(r.text).message, path).toMatch(message)
    }
  })

  it("describes itself at /.well-known/gs1resolver", async () => {
    const r = await resolve("/.well-known/gs1resolver")
    expect(r.status).toBe(200)
    const d = JSON.parse(r.text)
    expect(d).toMatchObject({ resolverRoot: base, supportedPrimaryKeys: ["01"], supportsCompressedLinks: true })
    expect(d.linkTypes).toEqual(expect.arrayContaining(["gs1:pip", "gs1:defaultLink", "gs1:careInstructions"]))
  })
})

describe("the product passport page", () => {
  it("is the default without a brand default link: HTML for browsers, the scan JSON for apps, en/fr/de", async () => {
    const json = await resolve(`/01/${bare}/21/${serials.b1}`, { accept: "application/json" })
    expect(json.status).toBe(200)
    const scan = JSON.parse(json.text)
    expect(scan.garment.id).toBe(garmentIds.b1)
    expect(json.headers.get("x-scan-id")).toBe(scan.scanId)
    for (const [lang, heading] of [
      ["fr", "Passeport produit"],
      ["de", "Produktpass"],
      ["en", "Product passport"]
    ] as const) {
      const page = await resolve(`/01/${bare}/21/${serials.b1}`, { accept: "text/html", "accept-language": lang })
      expect(page.status).toBe(200)
      expect(page.headers.get("content-language")).toBe(lang)
      expect(page.text).toContain(heading)
      expect(page.headers.get("content-security-policy")).toMatch(/^default-src 'none'; style-src 'sha256-/)
    }
    // a brand with its own default still has the passport at ?linkType=brandme:passport
    const hosted = await resolve(`/01/${gtin}/21/${serials.s1}?linkType=brandme:passport`)
    expect(hosted.status).toBe(200)
    expect(hosted.text).toContain("organic cotton")
  })

  it("records its scan with the region of our ingress's geo header, unknown otherwise", async () => {
    const viaIngress = await resolve(`/01/${bare}/21/${serials.b1}`, {
      accept: "application/json",
      "x-forwarded-for": "203.0.113.9",
      "x-client-region": "DE"
    })
    const direct = await resolve(`/01/${bare}/21/${serials.b1}`, {
      accept: "application/json",
      "x-client-region": "DE"
    })
    expect(JSON.parse(viaIngress.text).regionCode).toBe("DE")
    expect(JSON.parse(direct.text).regionCode).toBe("ZZ")
  })

  it("in headless Chromium at 390 px: allowed facets shown, denied ones withheld with their reason, axe-core clean, < 50 KB", async () => {
    // a first scan reaches the audit log and a checkpoint: the page then shows its inclusion proof
    const first = await resolve(`/01/${bare}/21/${serials.b1}`, { accept: "application/json" })
    const firstId = JSON.parse(first.text).scanId as string
    const deadline = Date.now() + 60_000
    for (;;) {
      const [row] = await sql<{ covered: boolean }>(
        platform.db.url,
        `SELECT EXISTS (SELECT 1 FROM audit_leaves l JOIN audit_checkpoints c ON c.tree_size > l.leaf_index
          WHERE l.idempotency_key = $1) AS covered`,
        [`scan-${firstId}`]
      )
      if (row?.covered === true) break
      if (Date.now() > deadline) throw new Error("the first scan reached no checkpoint in 60 s")
      await new Promise((r) => setTimeout(r, 250))
    }
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
    try {
      const ctx = await browser.newContext({
        viewport: { width: 390, height: 844 },
        locale: "en-GB",
        javaScriptEnabled: false
      })
      const page = await ctx.newPage()
      const res = await page.goto(`${base}/01/${bare}/21/${serials.b1}`)
      expect(res?.status()).toBe(200)
      // the browser's resolutions are scans too
      scanIds.push(String(res?.headers()["x-scan-id"]))
      const html = await res!.text()
      const bytes = Buffer.byteLength(html)
      console.log(`passport page: ${bytes} bytes`)
      expect(bytes).toBeLessThan(50 * 1024)
      for (const id of ["materials", "origin", "care", "certifications"])
        expect(await page.locator(`#${id}`).count(), id).toBe(1)
      expect(await page.locator("#materials").textContent()).toContain("organic cotton — 95 %")
      // anonymous, unknown region (strictest regime): the owner's identity is withheld, with its reason
      expect(await page.locator("#owner_identity").count()).toBe(0)
      const withheld = page.locator('#withheld li[data-group="owner_identity"]')
      expect(await withheld.count()).toBe(1)
      // the decision's own reason, as the policy gave it
      expect(await withheld.textContent()).toBe("Owner: the garment has no current owner")
      // the verify section: the latest audited scan with its inclusion proof, linked to the console's verifier
      const verify = (await page.locator("#verify").textContent()) ?? ""
      expect(verify).toMatch(/Inclusion proof/)
      expect(await page.locator('#verify a[href*="/auditor#index="]').count()).toBe(1)
      mkdirSync(SHOTS, { recursive: true })
      await page.screenshot({ path: join(SHOTS, "passport-390.png"), fullPage: true })
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      expect(overflow).toBeLessThanOrEqual(0)
      // axe-core needs script: the same page in a context that runs it (bypassing the page's CSP to inject axe)
      const axeCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true })
      const axePage = await axeCtx.newPage()
      scanIds.push(String((await axePage.goto(`${base}/01/${bare}/21/${serials.b1}`))?.headers()["x-scan-id"]))
      await axePage.addScriptTag({ content: AXE })
      const violations = await axePage.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: { run: (d: Document) => Promise<{ violations: Array<{ id: string; impact: string | null }> }> }
          }
        ).axe
        return (await axe.run(document)).violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      })
      expect(violations.map((v) => `${v.id} (${v.impact})`)).toEqual([])
    } finally {
      await browser.close()
    }
  }, 120_000)
})

describe("every resolution is a scan", () => {
  it("each GET resolution of an item is in scan_events exactly once (HEADs and GTIN-only links add none)", async () => {
    expect(scanIds.length).toBeGreaterThan(20)
    expect(new Set(scanIds).size).toBe(scanIds.length)
    const deadline = Date.now() + 60_000
    let counts: Array<{ id: string; n: number }> = []
    for (;;) {
      counts = await sql<{ id: string; n: number }>(
        platform.db.url,
        "SELECT id::text AS id, count(*)::int AS n FROM scan_events WHERE id = ANY($1::uuid[]) GROUP BY id",
        [scanIds]
      )
      if (counts.length === scanIds.length || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(counts.length).toBe(scanIds.length)
    expect(counts.every((c) => c.n === 1)).toBe(true)
    // nothing else was recorded for these garments: one row per resolution, no more
    const [total] = await sql<{ n: number }>(
      platform.db.url,
      "SELECT count(*)::int AS n FROM scan_events WHERE garment_id = ANY($1::uuid[])",
      [Object.values(garmentIds)]
    )
    expect(total?.n).toBe(scanIds.length)
  })
})
