import { describe, expect, it } from "vitest"
import {
  acceptedLanguages,
  chooseLink,
  linkHeader,
  linksetOf,
  passportLanguage,
  resolveLinks,
  targetOf
} from "./LinkResolution.js"
import type { DigitalLinkEntry } from "./LinksApi.js"

const GTIN = "09506000134352"
let n = 0
const entry = (e: Partial<DigitalLinkEntry>): DigitalLinkEntry => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
  brandId: "00000000-0000-4000-8000-000000000000",
  gtin: GTIN,
  cpv: null,
  lot: null,
  serial: null,
  linkType: "gs1:pip",
  href: "https://brand.example/",
  title: "T",
  lang: null,
  mediaType: null,
  passQualifiers: false,
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...e
})
const key = (q: { cpv?: string; lot?: string; serial?: string } = {}) => ({
  gtin: GTIN,
  cpv: q.cpv ?? null,
  lot: q.lot ?? null,
  serial: q.serial ?? null
})

describe("which links a key gets", () => {
  const entries = [
    entry({ linkType: "gs1:defaultLink", href: "https://b.example/gtin" }),
    entry({ linkType: "gs1:careInstructions", href: "https://b.example/care" }),
    entry({ linkType: "gs1:defaultLink", lot: "L1", href: "https://b.example/lot" }),
    entry({ linkType: "gs1:defaultLink", lot: "L1", serial: "S9", href: "https://b.example/s9-in-l1" }),
    entry({ linkType: "gs1:defaultLink", serial: "S1", href: "https://b.example/s1" }),
    entry({ linkType: "gs1:pip", cpv: "RED", href: "https://b.example/red" })
  ]
  const targets = (k: ReturnType<typeof key>) =>
    Object.fromEntries(resolveLinks(entries, k).map((l) => [l.linkType, `${l.level} ${l.target}`]))

  it("a serial without an entry inherits its GTIN's links", () => {
    expect(targets(key({ serial: "S2" }))).toEqual({
      "gs1:defaultLink": "gtin https://b.example/gtin",
      "gs1:careInstructions": "gtin https://b.example/care"
    })
  })

  it("the most specific entry of each link type wins; the others still come from the GTIN", () => {
    expect(targets(key({ serial: "S1" }))).toMatchObject({
      "gs1:defaultLink": "serial https://b.example/s1",
      "gs1:careInstructions": "gtin https://b.example/care"
    })
    expect(targets(key({ lot: "L1", serial: "S2" }))["gs1:defaultLink"]).toBe("lot https://b.example/lot")
    expect(targets(key({ lot: "L1", serial: "S9" }))["gs1:defaultLink"]).toBe("serial https://b.example/s9-in-l1")
    // an entry for serial S9 of lot L1 does not apply to S9 without that lot
    expect(targets(key({ serial: "S9" }))["gs1:defaultLink"]).toBe("gtin https://b.example/gtin")
    expect(targets(key({ cpv: "RED" }))["gs1:pip"]).toBe("cpv https://b.example/red")
    expect(targets(key({ cpv: "BLUE" }))["gs1:pip"]).toBeUndefined()
  })

  it("passes the key on to the target when the entry asks, keeping its own query and fragment", () => {
    expect(
      targetOf(entry({ href: "https://b.example/p?x=1#top", passQualifiers: true }), key({ lot: "L/1", serial: "S 1" }))
    ).toBe(`https://b.example/p?x=1&01=${GTIN}&10=L%2F1&21=S+1#top`)
    expect(targetOf(entry({ href: "https://b.example/p" }), key({ serial: "S1" }))).toBe("https://b.example/p")
  })
})

describe("languages", () => {
  it("reads Accept-Language by preference, dropping q=0", () => {
    expect(acceptedLanguages("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")).toEqual(["fr-ch", "fr", "en", "de", "*"])
    expect(acceptedLanguages("de;q=0.1, en")).toEqual(["en", "de"])
    expect(acceptedLanguages("en;q=0, fr")).toEqual(["fr"])
    expect(acceptedLanguages(undefined)).toEqual([])
  })

  it("picks an exact language, then the same primary language, then one without a language", () => {
    const links = [
      { linkType: "gs1:defaultLink", lang: "en", id: "en" },
      { linkType: "gs1:defaultLink", lang: "fr-CA", id: "fr-CA" },
      { linkType: "gs1:defaultLink", lang: null, id: "any" },
      { linkType: "gs1:pip", lang: "de", id: "pip-de" }
    ]
    expect(chooseLink(links, "gs1:defaultLink", ["fr-ca"])?.id).toBe("fr-CA")
    expect(chooseLink(links, "gs1:defaultLink", ["fr-fr"])?.id).toBe("fr-CA")
    expect(chooseLink(links, "gs1:defaultLink", ["de", "en"])?.id).toBe("en")
    expect(chooseLink(links, "gs1:defaultLink", ["ja"])?.id).toBe("any")
    expect(chooseLink(links, "gs1:pip", ["en"])?.id).toBe("pip-de")
    expect(chooseLink(links, "gs1:faqs", ["en"])).toBeUndefined()
    expect(passportLanguage(["it", "de-AT", "fr"])).toBe("de")
    expect(passportLanguage(["ja"])).toBe("en")
  })
})

describe("linkset and Link header", () => {
  const anchor = `https://id.example.com/01/${GTIN}/21/S1`
  const links = resolveLinks(
    [entry({ linkType: "gs1:pip", title: "Fiche produit", lang: "fr", href: "https://b.example/fr" })],
    key({ serial: "S1" })
  )

  it("anchors one context at the URI; relations are GS1 Web Vocabulary URIs; the passport is the default when there is none", () => {
    const set = linksetOf(anchor, links, true)
    expect(set.linkset).toHaveLength(1)
    const ctx = set.linkset[0]!
    expect(ctx.anchor).toBe(anchor)
    expect(ctx["https://gs1.org/voc/pip"]).toEqual([
      { href: "https://b.example/fr", title: "Fiche produit", hreflang: ["fr"] }
    ])
    expect(ctx["https://gs1.org/voc/defaultLink"]).toEqual(ctx["https://id.brandme.io/voc/passport"])
    // a GTIN-level URI names no item: no passport
    expect(Object.keys(linksetOf(`https://id.example.com/01/${GTIN}`, links, false).linkset[0]!)).toEqual([
      "anchor",
      "https://gs1.org/voc/pip"
    ])
  })

  it("writes titles beyond ASCII as title* (RFC 8187): header values stay Latin-1", () => {
    const header = linkHeader(anchor, linksetOf(anchor, [{ ...links[0]!, title: "Entretien à 30 °C" }], true))
    expect(header.startsWith(`<${anchor}?linkType=all>; rel="linkset"; type="application/linkset+json"`)).toBe(true)
    expect(header).toContain(`title*=UTF-8''Entretien%20%C3%A0%2030%20%C2%B0C`)
    expect(/^[\x20-\x7e]*$/.test(header)).toBe(true)
  })
})
