import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { digitalLink, parseTag } from "./DigitalLink.js"
import { withCheckDigit } from "./Gtin.js"

const problemOf = (tag: string) => {
  const r = parseTag(tag)
  return Either.isLeft(r) ? r.left.details.problem : "ok"
}
const messageOf = (tag: string) => {
  const r = parseTag(tag)
  return Either.isLeft(r) ? r.left.message : ""
}

const CSET82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`
const serialArb = fc.string({ unit: fc.constantFrom(...CSET82.split("")), minLength: 1, maxLength: 20 })
const gtinArb = fc
  .constantFrom(7, 11, 12, 13)
  .chain((n) => fc.string({ unit: fc.constantFrom(..."0123456789".split("")), minLength: n, maxLength: n }))
  .map(withCheckDigit)

describe("parseTag", () => {
  it("parses a GTIN-14 Digital Link with serial", () => {
    expect(parseTag("https://id.brand.example/01/09506000134352/21/ABC123")).toEqual(
      Either.right({ _tag: "DigitalLink", gtin: "09506000134352", serial: "ABC123", batch: null })
    )
  })

  it("normalises GTIN-8/12/13 to 14 digits, keeps batch, path prefix and ignores query attributes", () => {
    const r = parseTag("https://example.com/some/prefix/01/9506000134352/10/LOT%2F7/21/X-1?17=271231&linkType=gs1:pip")
    expect(r).toEqual(Either.right({ _tag: "DigitalLink", gtin: "09506000134352", serial: "X-1", batch: "LOT/7" }))
    expect(parseTag("https://e.com/01/95012346/21/1")).toEqual(
      Either.right({ _tag: "DigitalLink", gtin: "00000095012346", serial: "1", batch: null })
    )
  })

  it("accepts a garment id", () => {
    expect(parseTag("8F0E2B7A-1C2D-4E5F-8A9B-0C1D2E3F4A5B")).toEqual(
      Either.right({ _tag: "GarmentId", id: "8f0e2b7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" })
    )
  })

  it("names the wrong check digit and the expected one", () => {
    expect(messageOf("https://e.com/01/09506000134357/21/A")).toBe("GTIN check digit is 7, expected 2")
    expect(problemOf("https://e.com/01/09506000134357/21/A")).toBe("gtin-check-digit")
  })

  it("names each other problem", () => {
    expect(problemOf("")).toBe("empty")
    expect(problemOf("not a tag")).toBe("not-a-url")
    expect(problemOf("ftp://e.com/01/09506000134352/21/A")).toBe("bad-scheme")
    expect(problemOf("https://e.com/21/A")).toBe("missing-gtin")
    expect(problemOf("https://e.com/01/0950600013435x/21/A")).toBe("gtin-not-digits")
    expect(problemOf("https://e.com/01/123456789/21/A")).toBe("gtin-bad-length")
    expect(problemOf("https://e.com/01/09506000134352")).toBe("missing-serial")
    expect(problemOf(`https://e.com/01/09506000134352/21/${"A".repeat(21)}`)).toBe("bad-serial")
    expect(messageOf(`https://e.com/01/09506000134352/21/${"A".repeat(21)}`)).toContain("at most 20")
    expect(problemOf("https://e.com/01/09506000134352/21/%E2%82%AC")).toBe("bad-serial")
    expect(problemOf("https://e.com/01/09506000134352/21/%ZZ")).toBe("bad-path")
    expect(problemOf("https://e.com/01/09506000134352/10/%E2%82%AC/21/A")).toBe("bad-batch")
    expect(problemOf("https://e.com/01/09506000134352/99/x/21/A")).toBe("bad-path")
    expect(problemOf(`https://e.com/${"a".repeat(3000)}`)).toBe("too-long")
  })

  it("round-trips every valid GTIN, serial and batch (property)", () => {
    fc.assert(
      fc.property(gtinArb, serialArb, fc.option(serialArb, { nil: undefined }), (gtin, serial, batch) => {
        const r = parseTag(digitalLink({ domain: "id.example.com", gtin, serial, batch }))
        expect(r).toEqual(
          Either.right({ _tag: "DigitalLink", gtin: gtin.padStart(14, "0"), serial, batch: batch ?? null })
        )
      }),
      { numRuns: 500 }
    )
  })

  it("rejects every single-digit change of the check digit (property)", () => {
    fc.assert(
      fc.property(gtinArb, fc.integer({ min: 1, max: 9 }), (gtin, delta) => {
        const wrong = `${gtin.slice(0, -1)}${(Number(gtin.slice(-1)) + delta) % 10}`
        expect(problemOf(`https://e.com/01/${wrong}/21/S1`)).toBe("gtin-check-digit")
      }),
      { numRuns: 300 }
    )
  })

  it("never throws on arbitrary input (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true })), (s) => {
        const r = parseTag(s)
        if (Either.isLeft(r)) expect(r.left.message.length).toBeGreaterThan(0)
      }),
      { numRuns: 300 }
    )
  })
})
