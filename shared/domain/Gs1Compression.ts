import { Either } from "effect"

/**
 * The compressed GS1 Digital Link (GS1 Digital Link Standard 1.2, compression; GS1's reference toolkit
 * behaves the same): the element strings as one bit string written in a URI-safe base64 alphabet.
 * Each element is its AI (one hex nibble per digit, or one byte naming a sequence of AIs from the
 * optimisation table) followed by its value: a fixed-length numeric in ceil(n·log2 10) bits; a
 * variable-length numeric with a length prefix; an alphanumeric as a 3-bit encoding (0 digits,
 * 1 lower hex, 2 upper hex, 3 base64url, 4 ASCII-7), a length prefix and 0/4/4/6/7 bits per character.
 * A nibble F starts a non-GS1 key=value pair. Only the AIs a GTIN Digital Link can carry are known here.
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
const HEX = "0123456789ABCDEF"

/** the AI's length by its first two digits (GS1 General Specifications, AI prefix table) */
const AI_LENGTH: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    ["00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22", "30", "37"].map((p) => [p, 2])
  ),
  ...Object.fromEntries(["90", "91", "92", "93", "94", "95", "96", "97", "98", "99"].map((p) => [p, 2])),
  ...Object.fromEntries(["23", "24", "25", "40", "41", "42", "71"].map((p) => [p, 3])),
  ...Object.fromEntries(
    ["31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81", "82"].map((p) => [p, 4])
  )
}

/** one component of a value: E = N numeric or X alphanumeric; L fixed length or M maximum length */
interface Part {
  readonly E: "N" | "X"
  readonly L?: number
  readonly M?: number
}
const N = (L: number): ReadonlyArray<Part> => [{ E: "N", L }]
const NV = (M: number): ReadonlyArray<Part> => [{ E: "N", M }]
const XV = (M: number): ReadonlyArray<Part> => [{ E: "X", M }]

/** the value formats of the AIs a GTIN Digital Link carries: key, qualifiers and common data attributes */
const FORMAT: Readonly<Record<string, ReadonlyArray<Part>>> = {
  "01": N(14),
  "10": XV(20),
  "21": XV(20),
  "22": XV(20),
  "11": N(6),
  "12": N(6),
  "13": N(6),
  "15": N(6),
  "16": N(6),
  "17": N(6),
  "20": N(2),
  "30": NV(8),
  "7003": N(10),
  "91": XV(90),
  ...Object.fromEntries(["310", "320"].flatMap((p) => [0, 1, 2, 3, 4, 5].map((d) => [`${p}${d}`, N(6)] as const))),
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => [`392${d}`, NV(15)] as const))
}

/** the optimisation codes whose AIs are all known here (GS1's table; others are reported unsupported) */
const OPTIMISATIONS: Readonly<Record<string, ReadonlyArray<string>>> = {
  "0A": ["01", "22"],
  "0B": ["01", "10"],
  "0C": ["01", "21"],
  "0D": ["01", "17"],
  "0E": ["01", "7003"],
  "0F": ["01", "30"],
  "1A": ["01", "10", "21", "17"],
  "1B": ["01", "15"],
  "1C": ["01", "11"],
  "1D": ["01", "16"],
  "1E": ["01", "91"],
  "1F": ["01", "10", "15"],
  ...Object.fromEntries([0, 1, 2, 3, 4, 5].map((d) => [`2${"ABCDEF"[d]}`, ["01", `310${d}`]])),
  ...Object.fromEntries([0, 1, 2, 3, 4, 5].map((d) => [`3${"ABCDEF"[d]}`, ["01", `320${d}`]])),
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => [`A${d}`, ["01", `392${d}`]]))
}

const lengthBits = (max: number) => Math.ceil(Math.log2(max) + 0.01)
const valueBits = (digits: number) => Math.ceil(digits * Math.log2(10) + 0.01)
const pad = (s: string, n: number) => s.padStart(n, "0")

class Bits {
  cursor = 0
  constructor(readonly s: string) {}
  left() {
    return this.s.length - this.cursor
  }
  take(n: number): string {
    if (n > this.left())
      throw new CompressionError(`ends in the middle of a value (${n} bits wanted, ${this.left()} left)`)
    const out = this.s.slice(this.cursor, this.cursor + n)
    this.cursor += n
    return out
  }
  int(n: number): number {
    return n === 0 ? 0 : Number.parseInt(this.take(n), 2)
  }
}

class CompressionError {
  constructor(readonly message: string) {}
}

const digits = (bits: Bits, count: number): string =>
  count === 0 ? "" : pad(BigInt(`0b${bits.take(valueBits(count))}`).toString(), count)

const chars = (bits: Bits, encoding: number, count: number): string => {
  switch (encoding) {
    case 0:
      return digits(bits, count)
    case 1:
    case 2: {
      let s = ""
      for (let i = 0; i < count; i++) s += HEX[bits.int(4)]
      return encoding === 1 ? s.toLowerCase() : s
    }
    case 3: {
      let s = ""
      for (let i = 0; i < count; i++) s += ALPHABET[bits.int(6)]
      return s
    }
    case 4: {
      let s = ""
      for (let i = 0; i < count; i++) s += String.fromCharCode(bits.int(7))
      return s
    }
    default:
      throw new CompressionError(`unknown character encoding ${encoding}`)
  }
}

const readValue = (bits: Bits, ai: string): string => {
  const format = FORMAT[ai]
  if (format === undefined) throw new CompressionError(`AI ${ai} is not supported by this resolver`)
  let value = ""
  for (const part of format) {
    if (part.E === "N" && part.L !== undefined) value += digits(bits, part.L)
    else if (part.E === "N") value += digits(bits, bits.int(lengthBits(part.M!)))
    else {
      const encoding = bits.int(3)
      const count = part.L ?? bits.int(lengthBits(part.M!))
      value += chars(bits, encoding, count)
    }
  }
  return value
}

export interface Decompressed {
  readonly elements: ReadonlyArray<readonly [string, string]>
  readonly params: Readonly<Record<string, string>>
}

/** Decodes a compressed Digital Link segment into its element strings (AI, value) and non-GS1 pairs. */
export const decodeCompressed = (segment: string): Either.Either<Decompressed, string> => {
  let s = ""
  for (const c of segment) {
    const i = ALPHABET.indexOf(c)
    if (i === -1) return Either.left(`"${c}" is not a base64url character`)
    s += pad(i.toString(2), 6)
  }
  const bits = new Bits(s)
  const elements: Array<readonly [string, string]> = []
  const params: Record<string, string> = {}
  const seen = new Set<string>()
  const add = (ai: string, v: string) => {
    if (seen.has(ai)) throw new CompressionError(`AI ${ai} appears twice`)
    seen.add(ai)
    elements.push([ai, v])
  }
  try {
    while (bits.left() > 8) {
      const h1 = bits.int(4)
      const h2 = bits.int(4)
      if (h1 <= 9 && h2 <= 9) {
        const prefix = `${h1}${h2}`
        const length = AI_LENGTH[prefix]
        if (length === undefined) throw new CompressionError(`AI prefix ${prefix} is not a GS1 Application Identifier`)
        let ai = prefix
        for (let i = 2; i < length; i++) {
          const d = bits.int(4)
          if (d > 9) throw new CompressionError(`AI ${ai}${HEX[d]} is not all digits`)
          ai += String(d)
        }
        add(ai, readValue(bits, ai))
      } else if (h1 === 15) {
        // a non-GS1 key=value pair: 7-bit key length (h2 and 3 more bits), base64url key, then an encoded value
        const keyLength = h2 * 8 + bits.int(3)
        let key = ""
        for (let i = 0; i < keyLength; i++) key += ALPHABET[bits.int(6)]
        const encoding = bits.int(3)
        params[key] = chars(bits, encoding, bits.int(7))
      } else {
        const code = `${HEX[h1]}${HEX[h2]}`
        const seq = OPTIMISATIONS[code]
        if (seq === undefined) throw new CompressionError(`optimisation code ${code} is not supported by this resolver`)
        for (const ai of seq) add(ai, readValue(bits, ai))
      }
    }
    // what is left is padding to the last base64 character: zeros only
    if (/1/.test(bits.take(bits.left()))) throw new CompressionError("has trailing data after its last element")
  } catch (e) {
    if (e instanceof CompressionError) return Either.left(e.message)
    throw e
  }
  return Either.right({ elements, params })
}

const encodingOf = (v: string): number =>
  /^[0-9]+$/.test(v) ? 0 : /^[0-9A-F]+$/.test(v) ? 2 : /^[0-9a-f]+$/.test(v) ? 1 : /^[A-Za-z0-9_-]+$/.test(v) ? 3 : 4

const writeChars = (v: string, encoding: number): string => {
  switch (encoding) {
    case 0:
      return pad(BigInt(v).toString(2), valueBits(v.length))
    case 1:
    case 2:
      return [...v.toUpperCase()].map((c) => pad(HEX.indexOf(c).toString(2), 4)).join("")
    case 3:
      return [...v].map((c) => pad(ALPHABET.indexOf(c).toString(2), 6)).join("")
    default:
      return [...v].map((c) => pad(c.charCodeAt(0).toString(2), 7)).join("")
  }
}

const writeValue = (ai: string, value: string): string => {
  const format = FORMAT[ai]
  if (format === undefined) throw new TypeError(`AI ${ai} cannot be compressed here`)
  let out = ""
  let rest = value
  for (const part of format) {
    const v = part.L !== undefined ? rest.slice(0, part.L) : rest
    rest = rest.slice(v.length)
    if (part.E === "N") {
      out +=
        part.L !== undefined
          ? pad(BigInt(v).toString(2), valueBits(part.L))
          : `${pad(v.length.toString(2), lengthBits(part.M!))}${v === "" ? "" : pad(BigInt(v).toString(2), valueBits(v.length))}`
    } else {
      const encoding = encodingOf(v)
      out += `${pad(encoding.toString(2), 3)}${part.L !== undefined ? "" : pad(v.length.toString(2), lengthBits(part.M!))}${writeChars(v, encoding)}`
    }
  }
  return out
}

/**
 * Compresses element strings (AIs in ascending order, no optimisation codes — what GS1's toolkit
 * writes without optimisations, so its published examples are reproduced bit for bit).
 */
export const encodeCompressed = (elements: ReadonlyArray<readonly [string, string]>): string => {
  let s = ""
  for (const [ai, value] of [...elements].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    s += [...ai].map((d) => pad(Number(d).toString(2), 4)).join("") + writeValue(ai, value)
  }
  s += "0".repeat((6 - (s.length % 6)) % 6)
  let out = ""
  for (let i = 0; i < s.length; i += 6) out += ALPHABET[Number.parseInt(s.slice(i, i + 6), 2)]
  return out
}
