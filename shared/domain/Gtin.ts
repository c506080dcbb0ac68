/**
 * GTIN check digits (GS1 General Specifications §7.9): weights 3,1,3,1… from the right,
 * excluding the check digit. GTIN-8/12/13/14 normalise to 14 digits by left-padding with zeros.
 */
export const gtinCheckDigit = (body: string): number => {
  let sum = 0
  for (let i = 0; i < body.length; i++) {
    const digit = body.charCodeAt(body.length - 1 - i) - 48
    sum += digit * (i % 2 === 0 ? 3 : 1)
  }
  return (10 - (sum % 10)) % 10
}

export type GtinProblem = "not-digits" | "bad-length" | "bad-check-digit"

export const validateGtin = (gtin: string): { ok: true; gtin14: string } | { ok: false; problem: GtinProblem } => {
  if (!/^[0-9]+$/.test(gtin)) return { ok: false, problem: "not-digits" }
  if (![8, 12, 13, 14].includes(gtin.length)) return { ok: false, problem: "bad-length" }
  const body = gtin.slice(0, -1)
  if (gtinCheckDigit(body) !== Number(gtin.slice(-1))) return { ok: false, problem: "bad-check-digit" }
  return { ok: true, gtin14: gtin.padStart(14, "0") }
}

/** Completes a GTIN body (all digits but the last) with its check digit. */
export const withCheckDigit = (body: string): string => `${body}${gtinCheckDigit(body)}`
