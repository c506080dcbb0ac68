import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { gtinCheckDigit, validateGtin, withCheckDigit } from "./Gtin.js"

describe("GTIN", () => {
  it("validates the GS1 example GTINs and normalises to 14 digits", () => {
    expect(validateGtin("4006381333931")).toEqual({ ok: true, gtin14: "04006381333931" })
    expect(validateGtin("73513537")).toEqual({ ok: true, gtin14: "00000073513537" })
    expect(validateGtin("036000291452")).toEqual({ ok: true, gtin14: "00036000291452" })
    expect(validateGtin("10614141000415")).toEqual({ ok: true, gtin14: "10614141000415" })
  })

  it("names the problem", () => {
    expect(validateGtin("4006381333932")).toEqual({ ok: false, problem: "bad-check-digit" })
    expect(validateGtin("40063813339")).toEqual({ ok: false, problem: "bad-length" })
    expect(validateGtin("40063813339a1")).toEqual({ ok: false, problem: "not-digits" })
  })

  it("any body completed with its check digit validates; any other last digit does not", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{12}$/), fc.integer({ min: 1, max: 9 }), (body, delta) => {
        const gtin = withCheckDigit(body)
        expect(validateGtin(gtin).ok).toBe(true)
        const wrong = `${body}${(gtinCheckDigit(body) + delta) % 10}`
        expect(validateGtin(wrong).ok).toBe(false)
      })
    )
  })
})
