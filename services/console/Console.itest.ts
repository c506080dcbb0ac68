/**
 * The console app end to end in a real browser: headless Chromium (playwright-core, Debian's /usr/bin/chromium)
 * against the console, gateway, compliance, chain and orchestrator on real Postgres/Redis/NATS/BullMQ. People sign
 * in through the sign-in page (the session is an httpOnly cookie), and every step goes through the pages:
 * a brand creates a garment and issues a claim code; an owner claims it; a scan made through the API shows in
 * the brand's history and chart; the owner withdraws a consent and the next public scan lacks that facet; an
 * auditor verifies an entry and a consistency proof, and a tampered proof shows as invalid; an admin creates a
 * brand and its staff signs in. Each page is screenshot to test-results/console/ (git-ignored), checked at 390 px
 * for horizontal overflow and by axe-core for serious or critical accessibility violations.
 */
import { randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { digitalLink } from "../../shared/domain/DigitalLink.js"
import { withCheckDigit } from "../../shared/domain/Gtin.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { seedAuditLog } from "../compliance/testing/AuditSeed.js"
import { call, demo, signIn as signInApi, sql } from "./testing/ConsoleFixtures.js"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const SHOTS = join(import.meta.dirname, "..", "..", "test-results", "console")
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
const suffix = randomBytes(3).toString("hex")

let platform: TestPlatform
let consoleBase: string
let gateway: string
let browser: Browser
let profile: string
const contexts: Array<BrowserContext> = []

const open = async (width = 1280): Promise<Page> => {
  // bypassCSP only so axe-core can be injected; the app itself runs under its CSP in every other test
  const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 860 : 844 }, bypassCSP: true })
  contexts.push(ctx)
  return ctx.newPage()
}

const shoot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

/** No serious or critical axe-core violation on the page as it is now. */
const accessible = async (page: Page) => {
  await page.addScriptTag({ content: AXE })
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document
          ) => Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> }>
        }
      }
    ).axe
    const r = await axe.run(document)
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${JSON.stringify(v.nodes.map((n) => n.target)).slice(0, 200)}`)
  })
  expect(violations.join("\n"), `axe-core on ${page.url()}`).toBe("")
}

const noHorizontalOverflow = async (page: Page) => {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth
  }))
  expect(scroll, `page ${page.url()} is ${scroll}px wide at ${inner}px`).toBeLessThanOrEqual(inner)
}

const signIn = async (page: Page, email: string, password: string) => {
  await page.goto(`${consoleBase}/`)
  await page.getByLabel("Email").fill(email)
  await page.getByLabel("Password").fill(password)
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: 20_000 })
}

const go = async (page: Page, hash: string, ready: string) => {
  await page.goto(`${consoleBase}/#${hash}`)
  await page.getByRole("heading", { level: 1, name: ready }).waitFor({ timeout: 20_000 })
  await expect.poll(() => page.locator('[role="status"]:has-text("Loading")').count(), { timeout: 20_000 }).toBe(0)
}

/** Every page of a role at 390 px: no horizontal overflow, screenshot, axe-core. */
const tour = async (email: string, password: string, pages: ReadonlyArray<[string, string]>, name: string) => {
  const page = await open(390)
  await signIn(page, email, password)
  for (const [hash, heading] of pages) {
    await go(page, hash, heading)
    await noHorizontalOverflow(page)
    await accessible(page)
    await shoot(page, `${name}${hash.replaceAll("/", "-")}-390`)
  }
}

// state shared by the steps, in order
const gtin = `0${withCheckDigit(`0614141${String(Math.floor(Math.random() * 90000) + 10000)}`)}`
const serial = `E2E${suffix.toUpperCase()}`
let garmentId = ""
let claimCode = ""
let verifierKey = ""
const tag = () => digitalLink({ domain: "id.brandme.local", gtin, serial })
const publicScan = async () => {
  const r = await call(gateway, "POST", "/v1/scans", undefined, { tag: tag(), context: { region: "US" } })
  expect(r.status).toBe(200)
  return r.body
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  platform = await startTestPlatform({
    label: "consoleapp",
    services: ["gateway", "compliance", "chain", "orchestrator", "console"],
    demoData: true
  })
  consoleBase = platform.url("console")
  gateway = platform.url("gateway")
  verifierKey = await seedAuditLog(platform.config, [6, 23], [9, 9])
  profile = mkdtempSync(join(tmpdir(), "brandme-console-"))
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
}, 180_000)
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined)
  await browser?.close()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  await platform?.close()
})

describe("console app in headless Chromium", () => {
  it("serves the app at / and refuses /api without a session", async () => {
    const index = await fetch(`${consoleBase}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect((await fetch(`${consoleBase}/api/session`)).status).toBe(401)
    const write = await fetch(`${consoleBase}/api/v1/brands`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}"
    })
    expect(write.status).toBe(403)
    // what a cross-site form can send (text/plain, a form) is refused before that, as a body that is not JSON
    const form = await fetch(`${consoleBase}/api/v1/brands`, { method: "POST", body: "{}" })
    expect(form.status).toBe(415)
  })

  it("a brand signs in, creates a garment and issues a claim code", async () => {
    const page = await open()
    await signIn(page, demo("brand").email, demo("brand").password)
    await go(page, "/garments", "Garments")
    await accessible(page)
    await shoot(page, "brand-garments")
    await page.getByLabel("Name", { exact: true }).fill("Recycled wool scarf")
    await page.getByLabel("GTIN").fill(gtin)
    await page.getByLabel("Serial").fill(serial)
    await page.getByRole("button", { name: "Create garment" }).click()
    const link = page.getByRole("link", { name: "Recycled wool scarf" }).first()
    await link.waitFor()
    await page.getByRole("status").filter({ hasText: "Created" }).getByRole("link").click()
    await page.getByRole("heading", { level: 1, name: "Recycled wool scarf" }).waitFor()
    garmentId = page.url().split("/").pop() ?? ""
    await page.getByRole("button", { name: "Issue claim code" }).click()
    claimCode = (await page.getByTestId("claim-code").textContent()) ?? ""
    expect(claimCode).not.toBe("")
    await expect
      .poll(() => page.getByRole("img", { name: /QR code of https:\/\/id\.brandme\.local\/01\// }).count())
      .toBe(1)
    // a bad edit is refused with a readable message
    await page.getByLabel(/Facet groups/).fill('{ "materials": [{ "fibre": "wool" }] }')
    await page.getByRole("button", { name: /Save as version/ }).click()
    await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/percent/)
    await accessible(page)
    await shoot(page, "brand-garment-detail")
  })

  it("an owner claims it with the code", async () => {
    const page = await open()
    await signIn(page, demo("owner").email, demo("owner").password)
    await go(page, "/mine", "My garments")
    await page.getByLabel("Claim code").fill("not-a-real-code")
    await page.getByRole("button", { name: "Claim" }).click()
    await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/code/i)
    await page.getByLabel("Claim code").fill(claimCode)
    await page.getByRole("button", { name: "Claim" }).click()
    await page.getByText("The garment is yours.").waitFor()
    await page.getByRole("cell", { name: serial }).waitFor()
    await accessible(page)
    await shoot(page, "owner-garments")
  })

  it("a scan made through the API appears in the brand's history and chart", async () => {
    await publicScan()
    const scans = async () =>
      (
        await sql<{ n: number }>(platform.db.url, "SELECT count(*)::int AS n FROM scan_events WHERE garment_id = $1", [
          garmentId
        ])
      )[0]?.n ?? 0
    await expect.poll(scans, { timeout: 30_000, interval: 250 }).toBeGreaterThanOrEqual(1)
    const page = await open()
    await signIn(page, demo("brand").email, demo("brand").password)
    await go(page, `/garments/${garmentId}`, "Recycled wool scarf")
    await expect.poll(() => page.getByTestId("scan-total").textContent(), { timeout: 20_000 }).toBe("1")
    expect(await page.locator('[data-testid="scan-chart"] rect[data-series="US"]').count()).toBe(1)
    await page.getByRole("cell", { name: "public_view" }).waitFor()
    await shoot(page, "brand-scans")
  })

  it("the owner withdraws a consent and the next public scan no longer shows that facet", async () => {
    // an anonymous scan from an unknown region is decided under the strictest regime (GDPR), where the public
    // sees the ownership history only with the owner's opt-in: grant it first, then withdraw it in the console
    const owner = await signInApi(gateway, demo("owner").email, demo("owner").password)
    const granted = await call(gateway, "POST", "/v1/consents", owner, { purpose: "ownership_history", granted: true })
    expect(granted.status).toBe(201)
    expect((await publicScan()).facets.ownership_history).toBeDefined()
    const page = await open()
    await signIn(page, demo("owner").email, demo("owner").password)
    await go(page, "/consents", "Consents")
    const row = page.locator('tr[data-purpose="ownership_history"]')
    await row.getByRole("button", { name: "Withdraw" }).click()
    await expect.poll(() => row.locator(".badge").textContent()).toBe("withdrawn")
    await accessible(page)
    await shoot(page, "owner-consents")
    expect((await publicScan()).facets.ownership_history).toBeUndefined()
  })

  it("an auditor verifies an entry and a consistency proof, and a tampered proof shows invalid", async () => {
    const page = await open()
    await signIn(page, demo("auditor").email, demo("auditor").password)
    await go(page, "/audit", "Audit log")
    await page.getByLabel("Entry index").fill("17")
    await page.getByLabel("Consistency from size").fill("6")
    await page.getByLabel(/Verifier key/).fill(verifierKey)
    await page.getByRole("button", { name: "Verify", exact: true }).click()
    await expect.poll(() => page.getByTestId("verdict").textContent(), { timeout: 20_000 }).toBe("Verified")
    const names = await page.$$eval(".checks li.ok", (lis) => lis.map((li) => (li as HTMLElement).dataset.check))
    expect(names).toEqual(["checkpoint", "signature", "inclusion", "consistency"])
    await accessible(page)
    await shoot(page, "auditor-verified")

    // flip one bit of the inclusion proof on its way to the browser
    await page.route("**/api/v1/audit/entries/**", async (route) => {
      const response = await route.fetch()
      const json = (await response.json()) as { inclusionProof: Array<string> }
      const first = json.inclusionProof[0] ?? ""
      json.inclusionProof[0] = `${(Number.parseInt(first[0] ?? "0", 16) ^ 1).toString(16)}${first.slice(1)}`
      await route.fulfill({ response, json })
    })
    await page.getByRole("button", { name: "Verify", exact: true }).click()
    await expect.poll(() => page.getByTestId("verdict").textContent(), { timeout: 20_000 }).toBe("FAILED")
    expect(await page.locator('li[data-check="inclusion"]').getAttribute("class")).toBe("failed")
    expect(await page.locator('li[data-check="inclusion"]').textContent()).toMatch(/does not match the expected root/)
    await shoot(page, "auditor-tampered")
  })

  it("an admin creates a brand and its staff signs in; sign-out revokes the session", async () => {
    const page = await open()
    await signIn(page, demo("admin").email, demo("admin").password)
    await go(page, "/brands", "Brands and people")
    await page.getByLabel("Name", { exact: true }).first().fill("Maison Test")
    await page.getByLabel("Slug").fill(`maison-${suffix}`)
    await page.getByRole("button", { name: "Create brand" }).click()
    await page.getByRole("heading", { name: "Maison Test — staff" }).waitFor()
    const staff = page.getByRole("region", { name: "Maison Test — staff" })
    const email = `staff-${suffix}@maison.example.com`
    await staff.getByLabel("Name").fill("Marie Maison")
    await staff.getByLabel("Email").fill(email)
    await staff.getByLabel("First password").fill("maison-first-pass")
    await staff.getByRole("button", { name: "Add staff member" }).click()
    await staff.getByText(`${email} can now sign in.`).waitFor()
    await staff.getByRole("cell", { name: email }).waitFor()
    await accessible(page)
    await shoot(page, "admin-brands")
    await go(page, "/ops", "Operations")
    await page.getByRole("cell", { name: "dead-letter" }).waitFor()
    await accessible(page)
    await shoot(page, "admin-ops")

    const staffPage = await open()
    await signIn(staffPage, email, "maison-first-pass")
    await go(staffPage, "/garments", "Garments")
    expect(await staffPage.getByTestId("who").textContent()).toBe("Marie Maison")
    await staffPage.getByText("No garments match.").waitFor()
    const [cookie] = await staffPage.context().cookies()
    expect(cookie?.httpOnly).toBe(true)
    await staffPage.getByRole("button", { name: "Sign out" }).click()
    await staffPage.getByRole("button", { name: "Sign in" }).waitFor()
    expect((await call(gateway, "GET", "/v1/me", cookie?.value)).status).toBe(401)
  })

  it("a brand links its GTIN to its own page and previews it; the resolver follows the link", async () => {
    const page = await open()
    await signIn(page, demo("brand").email, demo("brand").password)
    await go(page, "/links", "Digital Links")
    await page.getByLabel("GTIN", { exact: true }).fill(gtin)
    await page.getByLabel("Link type").selectOption("gs1:defaultLink")
    await page.getByLabel("Target URL").fill("https://brand.example/scarf")
    await page.getByLabel("Title").fill("Our scarf")
    await page.getByRole("button", { name: "Add link" }).click()
    await page.getByRole("status").filter({ hasText: "Link added." }).waitFor()
    await page.getByRole("link", { name: "Our scarf" }).waitFor()
    await page.getByLabel("Digital Link URI").fill(tag())
    await page.getByRole("button", { name: "Preview" }).click()
    await page.getByText("A scan goes to https://brand.example/scarf").waitFor()
    await accessible(page)
    await shoot(page, "brand-links")
    const res = await fetch(`${gateway}/01/${gtin}/21/${serial}`, { redirect: "manual" })
    expect(res.status).toBe(307)
    expect(res.headers.get("location")).toBe("https://brand.example/scarf")
  })

  it("every page fits 390 px without horizontal overflow and passes axe-core", async () => {
    await tour(
      demo("brand").email,
      demo("brand").password,
      [
        ["/garments", "Garments"],
        [`/garments/${garmentId}`, "Recycled wool scarf"],
        ["/import", "Bulk import"],
        ["/escalations", "Escalations"],
        ["/webhooks", "Webhooks"],
        ["/links", "Digital Links"]
      ],
      "brand"
    )
    await tour(
      demo("owner").email,
      demo("owner").password,
      [
        ["/mine", "My garments"],
        ["/consents", "Consents"],
        ["/transfers", "Transfers"],
        ["/notifications", "Notifications"],
        ["/privacy", "My data"]
      ],
      "owner"
    )
    await tour(demo("auditor").email, demo("auditor").password, [["/audit", "Audit log"]], "auditor")
    await tour(
      demo("admin").email,
      demo("admin").password,
      [
        ["/brands", "Brands and people"],
        ["/ops", "Operations"]
      ],
      "admin"
    )
  }, 180_000)
})
