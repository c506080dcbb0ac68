import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { renderPrivacyDoc } from "./PrivacyDoc.js"
import { policyVersion } from "./Rules.js"

describe("docs/privacy.md", () => {
  it("is generated from the current rules (run npm run gen:privacy)", () => {
    expect(readFileSync(join(import.meta.dirname, "..", "..", "docs", "privacy.md"), "utf8")).toBe(renderPrivacyDoc())
  })

  it("names the running version and shows GDPR hiding an owner's history from the public without consent", () => {
    const doc = renderPrivacyDoc()
    expect(doc).toContain(policyVersion())
    const gdpr = doc.slice(doc.indexOf("### `gdpr`"))
    expect(gdpr).toMatch(/\| anonymous scanner \(public\) \| — \|/)
    const dflt = doc.slice(doc.indexOf("### `default`"))
    expect(dflt).toMatch(/\| anonymous scanner \(public\) \| history \|/)
  })
})
