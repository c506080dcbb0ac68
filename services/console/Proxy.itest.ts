import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestPlatform, type TestPlatform } from "../../shared/testing/TestPlatform.js"

/** Security review findings 8 and 11 on the console: headers of its page, and a proxy error that names no URL. */
let platform: TestPlatform
beforeAll(async () => {
  // the console alone: its compliance upstream is not running
  platform = await startTestPlatform({ label: "consoleproxy", services: ["console"] })
}, 120_000)
afterAll(() => platform?.close())

describe("the console", () => {
  it("finding 11: an unreachable compliance API is a 502 that does not name the upstream URL", async () => {
    const r = await fetch(`${platform.url("console")}/v1/audit/checkpoint`)
    expect(r.status).toBe(502)
    const body = (await r.json()) as { error: string; message: string }
    expect(body.error).toBe("AuditUpstreamUnavailable")
    expect(body.message).not.toMatch(/https?:|127\.0\.0\.1|:\d{4}/)
  })

  it("finding 8: the auditor page forbids framing and sniffing", async () => {
    const r = await fetch(`${platform.url("console")}/auditor`)
    expect(r.status).toBe(200)
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'")
    expect(r.headers.get("x-content-type-options")).toBe("nosniff")
    expect(r.headers.get("x-frame-options")).toBe("DENY")
  })
})
