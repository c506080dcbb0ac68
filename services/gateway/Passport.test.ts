import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import type { ScanResult } from "./scans/Api.js"
import { PASSPORT_CSP, renderPassport } from "./Passport.js"

const scan: ScanResult = {
  scanId: "11111111-1111-4111-8111-111111111111",
  scannedAt: "2026-12-03T10:00:00.000Z",
  garment: {
    id: "22222222-2222-4222-8222-222222222222",
    brandId: "33333333-3333-4333-8333-333333333333",
    name: "Tee <script>alert(1)</script>",
    gtin: "09506000134352",
    serial: "S1",
    batch: null
  },
  intent: "public_view",
  regionCode: "ZZ",
  decision: {
    regime: "gdpr",
    allowed: [{ group: "materials", reason: "shown to this scanner" }],
    denied: [{ group: "origin", reason: "withheld: consent withdrawn" }],
    policyVersion: "v1"
  },
  // origin present in the facets but denied by the decision: it must not be rendered
  facets: { materials: [{ fibre: "wool", percent: 100 }], origin: { country: "Portugal" } }
}

const render = (lang: "en" | "fr" | "de") =>
  renderPassport({
    scan,
    anchor: "https://id.example.com/01/09506000134352/21/S1",
    lang,
    links: [],
    brandName: "Atelier",
    audit: null,
    verifierUrl: "https://console.example.com/auditor"
  })

describe("passport page", () => {
  it("renders the allowed facets only, and each withheld one with the decision's reason", () => {
    const { html } = render("en")
    expect(html).toContain('<section id="materials">')
    expect(html).toContain("wool — 100 %")
    expect(html).not.toContain('<section id="origin">')
    expect(html).not.toContain("Portugal")
    expect(html).toContain('<li data-group="origin"><strong>Origin</strong>: withheld: consent withdrawn</li>')
  })

  it("escapes what brands and owners wrote", () => {
    const { html } = render("en")
    expect(html).not.toContain("<script>")
    expect(html).toContain("Tee &lt;script&gt;alert(1)&lt;/script&gt;")
  })

  it("speaks English, French and German", () => {
    expect(render("fr").html).toContain('<html lang="fr">')
    expect(render("fr").html).toContain("Vérifier cet enregistrement")
    expect(render("de").html).toContain("Eindeutige Produktkennung")
  })

  it("allows its one stylesheet by hash and nothing else", () => {
    const { html, csp } = render("en")
    const style = /<style>([^<]*)<\/style>/.exec(html)?.[1] ?? ""
    expect(csp).toBe(PASSPORT_CSP)
    expect(csp).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`)
    expect(csp.startsWith("default-src 'none';")).toBe(true)
    expect(html).not.toContain("<script")
  })
})
