/**
 * The auditor page in a real browser: headless Chromium (playwright-core, /usr/bin/chromium) loads the page
 * from the console, the console forwards /v1/audit/* to a running compliance service, and the page verifies
 * checkpoint, inclusion and consistency proofs with the shared module bundled for the browser. A good proof
 * shows "verified"; a proof tampered with in transit shows the failure. Screenshots land in
 * $AUDITOR_SCREENSHOT_DIR (default the OS temp dir).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Principal } from "../../shared/auth/Tokens.js"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"
import { issueTestToken } from "../../shared/testing/TestTokens.js"
import { seedAuditLog } from "../compliance/testing/AuditSeed.js"

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const SHOTS = process.env.AUDITOR_SCREENSHOT_DIR ?? tmpdir()
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

describe("console auditor page (headless Chromium)", () => {
  let platform: TestPlatform
  let consoleBase: string
  let browser: BrowserContext
  let profile: string
  let verifierKey: string
  const token = (role: Principal["role"]) => issueTestToken(platform.config, role)

  beforeAll(async () => {
    platform = await startTestPlatform({ label: "console", services: ["compliance", "console"] })
    consoleBase = platform.url("console")
    verifierKey = await seedAuditLog(platform.config, [6, 23], [7, 7])
    profile = mkdtempSync(join(tmpdir(), "brandme-chromium-"))
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1000, height: 640 }
    })
  })
  afterAll(async () => {
    await browser?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
    await platform?.close()
  })

  const verify = async (page: Page, input: { token: string; index: number; from?: number; verifier?: string }) => {
    await page.goto(`${consoleBase}/auditor`)
    await expect.poll(() => page.textContent("#status")).toBe("ready")
    await page.fill("#token", input.token)
    await page.fill("#index", String(input.index))
    await page.fill("#from", input.from === undefined ? "" : String(input.from))
    await page.fill("#verifier", input.verifier ?? "")
    await page.click("#verify")
    await expect.poll(() => page.textContent("#status"), { timeout: 15_000 }).toMatch(/^(verified|FAILED)/)
    const checks = await page.$$eval("#checks li", (lis) =>
      lis.map((li) => ({ name: (li as HTMLElement).dataset.check, ok: li.className === "ok" }))
    )
    return { status: (await page.textContent("#status")) ?? "", checks }
  }

  it("serves the page and a bundle of the shared verification module", async () => {
    const page = await fetch(`${consoleBase}/auditor`)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toMatch(/^text\/html/)
    const js = await fetch(`${consoleBase}/auditor.js`)
    expect(js.status).toBe(200)
    const code = await js.text()
    // Messages of shared/audit/Merkle.ts itself: the browser runs that module, not a copy of it.
    expect(code).toContain("a consistency proof from an empty tree proves nothing")
    expect(code).toContain("computed root does not match the expected root")
    const again = await fetch(`${consoleBase}/auditor.js`, {
      headers: { "if-none-match": js.headers.get("etag") ?? "" }
    })
    expect(again.status).toBe(304)
    // The proxy validates before forwarding, and relays the compliance service's refusals.
    const bad = await fetch(`${consoleBase}/v1/audit/consistency?from=x&to=3`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { message: string }).message).toMatch(/from/)
    expect((await fetch(`${consoleBase}/v1/audit/checkpoint`)).status).toBe(401)
  })

  it("verifies a good entry, its inclusion proof, a consistency proof and the signature in the browser", async () => {
    const page = await browser.newPage()
    const r = await verify(page, { token: await token("auditor"), index: 17, from: 6, verifier: verifierKey })
    await page.screenshot({ path: join(SHOTS, "auditor-verified.png"), fullPage: true })
    expect(r.status).toBe("verified")
    expect(r.checks).toEqual([
      { name: "checkpoint", ok: true },
      { name: "signature", ok: true },
      { name: "inclusion", ok: true },
      { name: "consistency", ok: true }
    ])
    await page.close()
  })

  it("shows FAILED when a proof is tampered with on its way to the browser", async () => {
    const page = await browser.newPage()
    // Flip one bit of one inclusion-proof hash in the compliance answer the page receives.
    await page.route("**/v1/audit/entries/**", async (route) => {
      const response = await route.fetch()
      const json = (await response.json()) as { inclusionProof: Array<string> }
      const first = json.inclusionProof[0] ?? ""
      json.inclusionProof[0] = `${(Number.parseInt(first[0] ?? "0", 16) ^ 1).toString(16)}${first.slice(1)}`
      await route.fulfill({ response, json })
    })
    const r = await verify(page, { token: await token("auditor"), index: 17 })
    await page.screenshot({ path: join(SHOTS, "auditor-tampered.png"), fullPage: true })
    expect(r.status).toMatch(/^FAILED/)
    expect(r.checks).toEqual([
      { name: "checkpoint", ok: true },
      { name: "inclusion", ok: false },
      { name: "consistency", ok: true }
    ])
    expect(await page.textContent("li[data-check=inclusion]")).toMatch(/does not match the expected root/)
    await page.close()
  })

  it("shows FAILED for a tampered consistency proof and for a caller who is not an auditor", async () => {
    const page = await browser.newPage()
    await page.route("**/v1/audit/consistency**", async (route) => {
      const response = await route.fetch()
      const json = (await response.json()) as { proof: Array<string> }
      json.proof.reverse()
      await route.fulfill({ response, json })
    })
    const r = await verify(page, { token: await token("auditor"), index: 2, from: 6 })
    expect(r.status).toMatch(/^FAILED/)
    expect(r.checks.find((c) => c.name === "consistency")).toEqual({ name: "consistency", ok: false })
    await page.unroute("**/v1/audit/consistency**")
    const owner = await verify(page, { token: await token("owner"), index: 2 })
    expect(owner.status).toMatch(/^FAILED: \/v1\/audit\/checkpoint: HTTP 403/)
    await page.close()
  })
})
