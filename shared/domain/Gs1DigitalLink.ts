import { Either } from "effect"
import { gtinCheckDigit, validateGtin } from "./Gtin.js"
import { decodeCompressed, encodeCompressed } from "./Gs1Compression.js"

/**
 * GS1 Digital Link URI syntax (GS1 Digital Link Standard: URI Syntax 1.2+) for the one primary key
 * garments carry, the GTIN (AI 01):
 *
 *   https://<domain>[/<prefix>]/01/<GTIN>[/22/<CPV>][/10/<lot>][/21/<serial>][?<AI>=<value>&…]
 *
 * Key qualifiers sit in the path, each at most once and in the order GS1 defines for AI 01: 22
 * (consumer product variant), 10 (batch/lot), 21 (serial); any of them may be left out. Data attributes
 * (expiry 17, net weight 3103, …) sit in the query string, next to non-GS1 parameters (`linkType`, …).
 * The compressed form carries the same element strings binary-encoded in one base64url path segment
 * (Gs1Compression.ts). Both forms parse to the same value; problems are named for the caller.
 */
export interface DigitalLinkKey {
  /** normalised to 14 digits */
  readonly gtin: string
  readonly cpv: string | null
  readonly lot: string | null
  readonly serial: string | null
}

export interface DigitalLink {
  readonly key: DigitalLinkKey
  /** data attributes: AI → value (from the query string, or from the compressed element strings) */
  readonly attributes: Readonly<Record<string, string>>
  /** the query's non-GS1 parameters (linkType, context, …), first value of each */
  readonly params: Readonly<Record<string, string>>
  readonly compressed: boolean
}

export type LinkProblem =
  | "missing-gtin"
  | "gtin-not-digits"
  | "gtin-bad-length"
  | "gtin-check-digit"
  | "bad-serial"
  | "bad-batch"
  | "bad-cpv"
  | "bad-path"
  | "qualifier-order"
  | "bad-attribute"
  | "bad-compressed"

export interface LinkError {
  readonly problem: LinkProblem
  readonly message: string
}

/** The key qualifiers of AI 01 in the order GS1 defines, with their short names (GS1 Digital Link 1.1). */
export const GTIN_QUALIFIERS = ["22", "10", "21"] as const
type Qualifier = (typeof GTIN_QUALIFIERS)[number]
const FIELD: Record<Qualifier, "cpv" | "lot" | "serial"> = { "22": "cpv", "10": "lot", "21": "serial" }
const NAME: Record<Qualifier, string> = { "22": "consumer product variant", "10": "batch/lot", "21": "serial" }
const PROBLEM: Record<Qualifier, LinkProblem> = { "22": "bad-cpv", "10": "bad-batch", "21": "bad-serial" }
/** GS1 Digital Link 1.1's alphabetic short names, still met on printed tags: read as their AIs */
const SHORT_NAMES: Record<string, string> = { gtin: "01", cpv: "22", lot: "10", ser: "21" }

/** GS1 AI encodable character set 82 (GS1 General Specifications figure 7.11-1). */
export const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$/
const AI_KEY = /^[0-9]{2,4}$/
const BASE64URL = /^[A-Za-z0-9_-]{10,}$/

/** Formats of the data attributes garments carry (GS1 General Specifications §3); others: set 82, ≤ 90. */
const ATTRIBUTE_FORMAT: Readonly<Record<string, RegExp>> = {
  "11": /^[0-9]{6}$/,
  "12": /^[0-9]{6}$/,
  "13": /^[0-9]{6}$/,
  "15": /^[0-9]{6}$/,
  "16": /^[0-9]{6}$/,
  "17": /^[0-9]{6}$/,
  "20": /^[0-9]{2}$/,
  "30": /^[0-9]{1,8}$/,
  "7003": /^[0-9]{10}$/
}
/** primary keys GS1 defines: one in the query is a misplaced key, not a data attribute */
const PRIMARY_KEYS = new Set([
  "00",
  "01",
  "253",
  "255",
  "401",
  "402",
  "414",
  "417",
  "8003",
  "8004",
  "8006",
  "8010",
  "8013",
  "8017",
  "8018"
])

const fail = (problem: LinkProblem, message: string): Either.Either<never, LinkError> =>
  Either.left({ problem, message })

const decode = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

const describeValue = (v: string, ai: string, max: number) =>
  v.length > max
    ? `AI ${ai} value is ${v.length} characters long, at most ${max} are allowed`
    : v.length === 0
      ? `AI ${ai} value is empty`
      : `AI ${ai} value contains characters outside the GS1 encodable set 82 (allowed: A-Z a-z 0-9 and !"%&'()*+,-./:;<=>?_)`

/** A GTIN as written (8, 12, 13 or 14 digits), checked and normalised to 14 digits. */
export const checkGtin = (gtin: string): Either.Either<string, LinkError> => {
  const checked = validateGtin(gtin)
  if (checked.ok) return Either.right(checked.gtin14)
  switch (checked.problem) {
    case "not-digits":
      return fail("gtin-not-digits", `GTIN "${gtin.slice(0, 40)}" must contain digits only`)
    case "bad-length":
      return fail("gtin-bad-length", `GTIN has ${gtin.length} digits; GTIN-8, -12, -13 or -14 expected`)
    case "bad-check-digit":
      return fail(
        "gtin-check-digit",
        `GTIN check digit is ${gtin.slice(-1)}, expected ${gtinCheckDigit(gtin.slice(0, -1))}`
      )
  }
}

const checkQualifier = (ai: Qualifier, value: string): Either.Either<string, LinkError> =>
  value.length >= 1 && value.length <= 20 && CSET82.test(value)
    ? Either.right(value)
    : fail(PROBLEM[ai], `${NAME[ai]} (${describeValue(value, ai, 20)})`)

const checkAttribute = (ai: string, value: string): Either.Either<string, LinkError> => {
  if (ai === "01" || PRIMARY_KEYS.has(ai)) {
    return fail("bad-attribute", `AI ${ai} is a primary key: it belongs in the path, not in the query string`)
  }
  if ((GTIN_QUALIFIERS as ReadonlyArray<string>).includes(ai)) {
    return fail("bad-attribute", `AI ${ai} is a key qualifier of GTIN: put it in the path (/01/<GTIN>/22/…/10/…/21/…)`)
  }
  const format = ATTRIBUTE_FORMAT[ai]
  if (format !== undefined) {
    return format.test(value)
      ? Either.right(value)
      : fail("bad-attribute", `AI ${ai} value "${value.slice(0, 40)}" has the wrong format`)
  }
  return value.length >= 1 && value.length <= 90 && CSET82.test(value)
    ? Either.right(value)
    : fail("bad-attribute", describeValue(value, ai, 90))
}

/**
 * Builds a Digital Link from element strings (AI → value) in any order: the compressed form's content, or
 * the path's qualifiers collected in order. Checks the GTIN, each qualifier and each attribute.
 */
export const fromElementStrings = (
  elements: ReadonlyArray<readonly [string, string]>,
  params: Readonly<Record<string, string>>,
  compressed: boolean
): Either.Either<DigitalLink, LinkError> => {
  let gtin: string | undefined
  const key: { cpv: string | null; lot: string | null; serial: string | null } = { cpv: null, lot: null, serial: null }
  const attributes: Record<string, string> = {}
  for (const [ai, value] of elements) {
    if (ai === "01") {
      const g = checkGtin(value)
      if (Either.isLeft(g)) return Either.left(g.left)
      gtin = g.right
      continue
    }
    const q = GTIN_QUALIFIERS.find((x) => x === ai)
    if (q !== undefined) {
      const v = checkQualifier(q, value)
      if (Either.isLeft(v)) return Either.left(v.left)
      key[FIELD[q]] = v.right
    } else {
      const v = checkAttribute(ai, value)
      if (Either.isLeft(v)) return Either.left(v.left)
      attributes[ai] = v.right
    }
  }
  if (gtin === undefined) {
    return fail(
      "missing-gtin",
      compressed ? "the compressed Digital Link carries no GTIN (AI 01)" : "GS1 Digital Link URI has no /01/<GTIN> path"
    )
  }
  return Either.right({ key: { gtin, ...key }, attributes, params, compressed })
}

/** The query string: numeric keys are GS1 data attributes, the rest non-GS1 parameters. */
const splitQuery = (
  query: string
): Either.Either<{ attributes: Array<readonly [string, string]>; params: Record<string, string> }, LinkError> => {
  const attributes: Array<readonly [string, string]> = []
  const params: Record<string, string> = {}
  for (const part of query.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const k = decode((eq === -1 ? part : part.slice(0, eq)).replace(/\+/g, " "))
    const v = decode((eq === -1 ? "" : part.slice(eq + 1)).replace(/\+/g, " "))
    if (k === undefined || v === undefined)
      return fail("bad-attribute", "the query string is not valid percent-encoding")
    if (AI_KEY.test(k)) attributes.push([k, v])
    else if (!(k in params)) params[k] = v
  }
  return Either.right({ attributes, params })
}

/**
 * Parses the path and query of a Digital Link request (`/01/…` or the compressed segment, with an
 * optional path prefix before either). Never throws; a problem is named.
 */
export const parseDigitalLinkPath = (rawPath: string, query = ""): Either.Either<DigitalLink, LinkError> => {
  const q = splitQuery(query)
  if (Either.isLeft(q)) return Either.left(q.left)
  for (const [ai, value] of q.right.attributes) {
    const checked = checkAttribute(ai, value)
    if (Either.isLeft(checked)) return Either.left(checked.left)
  }
  const segments = rawPath.split("/").filter((s) => s !== "")
  const at = segments.findIndex((s) => s === "01" || s === "gtin")
  if (at === -1) {
    const last = segments.at(-1)
    if (last === undefined || !BASE64URL.test(last)) {
      return fail("missing-gtin", "GS1 Digital Link URI has no /01/<GTIN> path and is not a compressed Digital Link")
    }
    const elements = decodeCompressed(last)
    if (Either.isLeft(elements)) return fail("bad-compressed", `compressed Digital Link: ${elements.left}`)
    for (const [ai] of elements.right.elements) {
      if (
        ai !== "01" &&
        !(GTIN_QUALIFIERS as ReadonlyArray<string>).includes(ai) &&
        AI_KEY.test(ai) &&
        PRIMARY_KEYS.has(ai)
      ) {
        return fail(
          "bad-compressed",
          `compressed Digital Link: primary key AI ${ai} is not served here (GTIN, AI 01, only)`
        )
      }
    }
    return fromElementStrings(
      [...elements.right.elements, ...q.right.attributes],
      { ...elements.right.params, ...q.right.params },
      true
    )
  }
  if (at + 1 >= segments.length) return fail("missing-gtin", "GS1 Digital Link URI has no GTIN after /01/")
  const gtin = decode(segments[at + 1]!)
  if (gtin === undefined) return fail("gtin-not-digits", "GTIN is not valid percent-encoding")
  const elements: Array<readonly [string, string]> = [["01", gtin]]
  const rest = segments.slice(at + 2)
  let last = -1
  for (let i = 0; i < rest.length; i += 2) {
    const written = rest[i]!
    const ai = SHORT_NAMES[written] ?? written
    const raw = rest[i + 1]
    const at = (GTIN_QUALIFIERS as ReadonlyArray<string>).indexOf(ai)
    if (at === -1) {
      return fail(
        "bad-path",
        `AI ${written.slice(0, 10)} is not a key qualifier of GTIN (22, 10 and 21 may follow /01/<GTIN>, in that order)`
      )
    }
    if (raw === undefined) return fail("bad-path", `AI ${ai} in the URI path has no value`)
    if (at === last) return fail("qualifier-order", `AI ${ai} appears twice in the path`)
    if (at < last) {
      return fail(
        "qualifier-order",
        `key qualifiers must follow GS1's order 22, 10, 21: AI ${ai} cannot come after AI ${GTIN_QUALIFIERS[last]}`
      )
    }
    last = at
    const value = decode(raw)
    if (value === undefined) return fail("bad-path", `AI ${ai} value is not valid percent-encoding`)
    elements.push([ai, value])
  }
  return fromElementStrings([...elements, ...q.right.attributes], q.right.params, false)
}

/** Parses a whole Digital Link URI (https or http). The path is read raw: "." and ".." are valid serials. */
export const parseDigitalLinkUri = (uri: string): Either.Either<DigitalLink, LinkError> => {
  const m = /^https?:\/\/[^/?#]+([^?#]*)(?:\?([^#]*))?/i.exec(uri.trim())
  if (m === null) return fail("bad-path", "a GS1 Digital Link URI starts with https:// and a domain name")
  return parseDigitalLinkPath(m[1] ?? "", m[2] ?? "")
}

/** Percent-encodes a value for a path segment (the characters of set 82 that URIs reserve). */
const encodeValue = (v: string) =>
  encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** The canonical uncompressed path of a key: `/01/<GTIN-14>[/22/…][/10/…][/21/…]`. */
export const keyPath = (key: DigitalLinkKey): string =>
  `/01/${key.gtin}${key.cpv !== null ? `/22/${encodeValue(key.cpv)}` : ""}${key.lot !== null ? `/10/${encodeValue(key.lot)}` : ""}${key.serial !== null ? `/21/${encodeValue(key.serial)}` : ""}`

/** The element strings of a key and its attributes, the compressed form's input. */
const elementsOf = (key: DigitalLinkKey, attributes: Readonly<Record<string, string>> = {}) => {
  const out: Array<readonly [string, string]> = [["01", key.gtin]]
  if (key.cpv !== null) out.push(["22", key.cpv])
  if (key.lot !== null) out.push(["10", key.lot])
  if (key.serial !== null) out.push(["21", key.serial])
  for (const [ai, v] of Object.entries(attributes)) out.push([ai, v])
  return out
}

/** The compressed path segment of a key (and data attributes): GS1 DL compression without optimisation codes. */
export const compressKey = (key: DigitalLinkKey, attributes: Readonly<Record<string, string>> = {}): string =>
  encodeCompressed(elementsOf(key, attributes))
