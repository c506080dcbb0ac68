import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { compressKey, type DigitalLink, keyPath, parseDigitalLinkUri } from "./Gs1DigitalLink.js"
import { decodeCompressed } from "./Gs1Compression.js"
import { withCheckDigit } from "./Gtin.js"

const ok = (uri: string): DigitalLink => {
  const r = parseDigitalLinkUri(uri)
  if (Either.isLeft(r)) throw new Error(`${uri}: ${r.left.message}`)
  return r.right
}
const problem = (uri: string) => {
  const r = parseDigitalLinkUri(uri)
  return Either.isLeft(r) ? r.left : undefined
}

/**
 * The compression examples GS1 publishes with its reference implementation (GS1 Digital Link
 * compression prototype / toolkit test tables): uncompressed URI → compressed URI, for the GTIN rows.
 */
const GS1_COMPRESSION_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["https://id.gs1.org/01/05412345000013", "https://id.gs1.org/AQnYUc1gmg"],
  ["https://id.gs1.org/01/5412345000013", "https://id.gs1.org/AQnYUc1gmg"],
  ["https://id.gs1.org/01/05412345000013/10/ABC123", "https://id.gs1.org/AQnYUc1gmiCNV4JG"],
  ["https://id.gs1.org/01/05412345000013/10/ABC123/21/72292641703", "https://id.gs1.org/AQnYUc1gmiCNV4JGQhcNT6K6c"],
  [
    "https://id.gs1.org/01/05412345000013/22/AJY3095721P49/10/ABC123/21/72292641703",
    "https://id.gs1.org/AQnYUc1gmiCNV4JGQhcNT6K6cibQCWN9Pee9tT-PQ"
  ],
  [
    "https://id.gs1.org/01/05412345000013/22/AJY3095721P49/10/ABC123",
    "https://id.gs1.org/AQnYUc1gmiCNV4JGRNoBLG-nvPe2p_Ho"
  ],
  ["https://id.gs1.org/01/05412345000013/21/72292641703", "https://id.gs1.org/AQnYUc1gmkIXDU-iun"],
  [
    "https://id.gs1.org/01/05412345000013/22/AJY3095721P49/21/72292641703",
    "https://id.gs1.org/AQnYUc1gmkIXDU-iunIm0AljfT3nvbU_j0"
  ],
  ["https://id.gs1.org/01/05412345000013/22/AJY3095721P49", "https://id.gs1.org/AQnYUc1gmkTaASxvp7z3tqfx6"]
]

describe("GS1 Digital Link URI syntax (AI 01 and its key qualifiers)", () => {
  it("parses GS1's example URIs: GTIN, CPV (22), lot (10), serial (21), data attributes in the query", () => {
    // GS1 Digital Link Standard 1.2 examples
    expect(ok("https://id.gs1.org/01/09506000134352").key).toEqual({
      gtin: "09506000134352",
      cpv: null,
      lot: null,
      serial: null
    })
    expect(ok("https://example.com/01/09506000134352/10/ABC/21/12345?17=180426").key).toEqual({
      gtin: "09506000134352",
      cpv: null,
      lot: "ABC",
      serial: "12345"
    })
    const full = ok(
      "https://id.gs1.org/01/05412345000013/22/AJY3095721P49/10/ABC123/21/72292641703?17=290331&3103=000195&linkType=gs1:pip"
    )
    expect(full.key).toEqual({ gtin: "05412345000013", cpv: "AJY3095721P49", lot: "ABC123", serial: "72292641703" })
    expect(full.attributes).toEqual({ "17": "290331", "3103": "000195" })
    expect(full.params).toEqual({ linkType: "gs1:pip" })
    // a path prefix before /01 (GS1 Digital Link 1.2 §4.1) and GTIN-13 / GTIN-8 normalised to 14 digits
    expect(ok("https://brand.example/some/prefix/01/9506000134352/21/A%2FB").key).toMatchObject({
      gtin: "09506000134352",
      serial: "A/B"
    })
    expect(ok("https://e.com/01/95012346").key.gtin).toBe("00000095012346")
    // the Digital Link 1.1 short names still parse to their AIs
    expect(ok("https://e.com/gtin/09506000134352/lot/L1/ser/S1").key).toMatchObject({ lot: "L1", serial: "S1" })
  })

  it("accepts every order GS1 defines (any subset of 22, 10, 21 in that order) and rejects the others", () => {
    const values: Record<string, string> = { "22": "CPV1", "10": "LOT1", "21": "SER1" }
    const orders = [[], ["22"], ["10"], ["21"], ["22", "10"], ["22", "21"], ["10", "21"], ["22", "10", "21"]]
    for (const o of orders) {
      const uri = `https://e.com/01/09506000134352${o.map((ai) => `/${ai}/${values[ai]}`).join("")}`
      expect(problem(uri), uri).toBeUndefined()
    }
    expect(problem("https://e.com/01/09506000134352/21/SER1/10/LOT1")).toEqual({
      problem: "qualifier-order",
      message: "key qualifiers must follow GS1's order 22, 10, 21: AI 10 cannot come after AI 21"
    })
    expect(problem("https://e.com/01/09506000134352/10/LOT1/22/CPV1")?.problem).toBe("qualifier-order")
    expect(problem("https://e.com/01/09506000134352/21/A/21/B")?.message).toBe("AI 21 appears twice in the path")
  })

  it("names the problem of a malformed link", () => {
    expect(problem("https://e.com/01/09506000134357/21/A")).toEqual({
      problem: "gtin-check-digit",
      message: "GTIN check digit is 7, expected 2"
    })
    expect(problem("https://e.com/01/123456789")?.problem).toBe("gtin-bad-length")
    expect(problem("https://e.com/01/95060001343x2")?.problem).toBe("gtin-not-digits")
    expect(problem("https://e.com/01/09506000134352/17/290331")?.message).toMatch(/not a key qualifier of GTIN/)
    expect(problem(`https://e.com/01/09506000134352/21/${"A".repeat(21)}`)?.message).toBe(
      "serial (AI 21 value is 21 characters long, at most 20 are allowed)"
    )
    expect(problem("https://e.com/01/09506000134352/22/%E2%82%AC")?.problem).toBe("bad-cpv")
    expect(problem("https://e.com/01/09506000134352/21")?.message).toBe("AI 21 in the URI path has no value")
    expect(problem("https://e.com/01/09506000134352?17=2904")?.message).toMatch(
      /AI 17 value "2904" has the wrong format/
    )
    expect(problem("https://e.com/01/09506000134352?21=X")?.message).toMatch(
      /key qualifier of GTIN: put it in the path/
    )
    expect(problem("https://e.com/products/shirt")?.problem).toBe("missing-gtin")
  })

  it("round-trips any GTIN, CPV, lot and serial through the canonical path (property)", () => {
    const set82 = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`
    const value = fc.string({ unit: fc.constantFrom(...set82.split("")), minLength: 1, maxLength: 20 })
    const gtin = fc
      .string({ unit: fc.constantFrom(..."0123456789".split("")), minLength: 13, maxLength: 13 })
      .map(withCheckDigit)
    fc.assert(
      fc.property(gtin, fc.option(value), fc.option(value), fc.option(value), (g, cpv, lot, serial) => {
        const key = { gtin: g, cpv, lot, serial }
        expect(ok(`https://e.com${keyPath(key)}`).key).toEqual(key)
        expect(ok(`https://e.com/${compressKey(key)}`).key).toEqual(key)
      }),
      { numRuns: 300 }
    )
  })
})

describe("compressed GS1 Digital Link", () => {
  it.each(GS1_COMPRESSION_EXAMPLES)("%s ⇄ %s (GS1's example)", (plain, compressed) => {
    const a = ok(plain)
    const b = ok(compressed)
    expect(b.compressed).toBe(true)
    expect(b.key).toEqual(a.key)
    expect(`https://id.gs1.org/${compressKey(a.key)}`).toBe(compressed)
  })

  it("decodes GS1's optimisation codes (0B = 01 + 10) and data attributes", () => {
    // 0B then the GTIN (47 bits) and lot ABC123 (base64url, 6 chars): the same key as the unoptimised form
    const plain = ok("https://id.gs1.org/01/05412345000013/10/ABC123")
    const bits = "00001011" + BigInt("05412345000013").toString(2).padStart(47, "0") + "011" + "00110"
    const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    const body = bits + [..."ABC123"].map((c) => b64.indexOf(c).toString(2).padStart(6, "0")).join("")
    const padded = body + "0".repeat((6 - (body.length % 6)) % 6)
    let seg = ""
    for (let i = 0; i < padded.length; i += 6) seg += b64[Number.parseInt(padded.slice(i, i + 6), 2)]
    expect(ok(`https://id.gs1.org/${seg}`).key).toEqual(plain.key)
    const withExpiry = compressKey({ gtin: "05412345000013", cpv: null, lot: null, serial: "S1" }, { "17": "290331" })
    expect(ok(`https://id.gs1.org/${withExpiry}`).attributes).toEqual({ "17": "290331" })
  })

  it("names what is wrong with a compressed link", () => {
    expect(problem("https://id.gs1.org/AN2yxDhfaiaw")?.message).toBe(
      "compressed Digital Link: AI 00 is not supported by this resolver"
    )
    expect(problem("https://id.gs1.org/AQnYUc1gmgAAAAAAAAAAAAAAAA")?.problem).toBe("bad-compressed")
    expect(Either.isLeft(decodeCompressed("AQnYUc1g"))).toBe(true)
    // a compressed link with a wrong GTIN check digit is refused like the uncompressed one
    const wrong = compressKey({ gtin: "05412345000014", cpv: null, lot: null, serial: null })
    expect(problem(`https://id.gs1.org/${wrong}`)?.problem).toBe("gtin-check-digit")
  })
})
