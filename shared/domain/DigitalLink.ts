import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Either, Schema } from "effect"
import { gtinCheckDigit, validateGtin } from "./Gtin.js"

/**
 * What a garment tag carries: a GS1 Digital Link URI (`https://<domain>[/<prefix>]/01/<GTIN>[/10/<batch>]/21/<serial>`)
 * or a bare garment id (UUID). GTINs are normalised to 14 digits and their check digit is verified;
 * serial and batch follow GS1 AI 21 / AI 10 (≤ 20 characters of the AI encodable set 82, percent-decoded).
 */
export type TagRef =
  | { readonly _tag: "DigitalLink"; readonly gtin: string; readonly serial: string; readonly batch: string | null }
  | { readonly _tag: "GarmentId"; readonly id: string }

export class InvalidTag extends Schema.TaggedError<InvalidTag>()(
  "InvalidTag",
  { message: Schema.String, details: Schema.Struct({ problem: Schema.String, tag: Schema.String }) },
  HttpApiSchema.annotations({ status: 422 })
) {}

export type TagProblem =
  | "empty"
  | "too-long"
  | "not-a-url"
  | "bad-scheme"
  | "missing-gtin"
  | "gtin-not-digits"
  | "gtin-bad-length"
  | "gtin-check-digit"
  | "missing-serial"
  | "bad-serial"
  | "bad-batch"
  | "bad-path"

const MAX_TAG_LENGTH = 2048
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** GS1 AI encodable character set 82 (GS1 General Specifications figure 7.11-1). */
const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/

const fail = (problem: TagProblem, tag: string, message: string) =>
  Either.left(new InvalidTag({ message, details: { problem, tag: tag.length > 200 ? `${tag.slice(0, 200)}…` : tag } }))

const decode = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

const checkAi = (value: string): string | undefined => (CSET82.test(value) ? value : undefined)

const describeChars = (v: string, ai: string) =>
  v.length > 20
    ? `AI ${ai} value is ${v.length} characters long, at most 20 are allowed`
    : v.length === 0
      ? `AI ${ai} value is empty`
      : `AI ${ai} value contains characters outside the GS1 encodable set 82 (allowed: A-Z a-z 0-9 and !"%&'()*+,-./:;<=>?_)`

export const parseTag = (input: string): Either.Either<TagRef, InvalidTag> => {
  const tag = input.trim()
  if (tag === "") return fail("empty", input, "tag is empty: send a GS1 Digital Link URI or a garment id")
  if (tag.length > MAX_TAG_LENGTH) {
    return fail("too-long", input, `tag is ${tag.length} characters long, at most ${MAX_TAG_LENGTH} are allowed`)
  }
  if (UUID.test(tag)) return Either.right({ _tag: "GarmentId", id: tag.toLowerCase() })
  let url: URL
  try {
    url = new URL(tag)
  } catch {
    return fail("not-a-url", input, "tag is neither a garment id (UUID) nor a GS1 Digital Link URI")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail("bad-scheme", input, `GS1 Digital Link URI must use https (or http), not ${url.protocol.slice(0, -1)}`)
  }
  // the raw path, not url.pathname: WHATWG URL parsing drops "." and ".." segments (even percent-encoded),
  // and those are valid serials
  const rawPath = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(tag)?.[1] ?? ""
  const segments = rawPath.split("/").filter((s) => s !== "")
  // a path prefix before /01 is allowed (GS1 Digital Link 1.2 §4.1): the first "01" segment starts the key
  const at = segments.indexOf("01")
  if (at === -1 || at + 1 >= segments.length) {
    return fail("missing-gtin", input, "GS1 Digital Link URI has no /01/<GTIN> path")
  }
  const gtin = decode(segments[at + 1]!) ?? ""
  const checked = validateGtin(gtin)
  if (!checked.ok) {
    switch (checked.problem) {
      case "not-digits":
        return fail("gtin-not-digits", input, `GTIN "${gtin.slice(0, 40)}" must contain digits only`)
      case "bad-length":
        return fail("gtin-bad-length", input, `GTIN has ${gtin.length} digits; GTIN-8, -12, -13 or -14 expected`)
      case "bad-check-digit":
        return fail(
          "gtin-check-digit",
          input,
          `GTIN check digit is ${gtin.slice(-1)}, expected ${gtinCheckDigit(gtin.slice(0, -1))}`
        )
    }
  }
  const rest = segments.slice(at + 2)
  let serial: string | undefined
  let batch: string | null = null
  for (let i = 0; i < rest.length; i += 2) {
    const ai = rest[i]!
    const raw = rest[i + 1]
    if (raw === undefined) return fail("bad-path", input, `AI ${ai.slice(0, 10)} in the URI path has no value`)
    const value = decode(raw)
    if (value === undefined) return fail("bad-path", input, `AI ${ai.slice(0, 10)} value is not valid percent-encoding`)
    if (ai === "21") {
      serial = checkAi(value)
      if (serial === undefined) return fail("bad-serial", input, `serial (${describeChars(value, "21")})`)
    } else if (ai === "10") {
      const b = checkAi(value)
      if (b === undefined) return fail("bad-batch", input, `batch (${describeChars(value, "10")})`)
      batch = b
    } else {
      return fail("bad-path", input, `AI ${ai.slice(0, 10)} is not a key qualifier of GTIN (10 or 21 expected)`)
    }
  }
  if (serial === undefined) {
    return fail("missing-serial", input, "GS1 Digital Link URI has no /21/<serial>: a garment tag names one item")
  }
  return Either.right({ _tag: "DigitalLink", gtin: checked.gtin14, serial, batch })
}

/** Canonical form used as a cache key and in logs. */
export const tagKey = (ref: TagRef): string =>
  ref._tag === "GarmentId" ? `id:${ref.id}` : `dl:${ref.gtin}:${ref.serial}`

/** Builds a Digital Link URI for a garment (used by tests, demo data and label printing). */
export const digitalLink = (o: {
  readonly domain: string
  readonly gtin: string
  readonly serial: string
  readonly batch?: string | undefined
}): string =>
  `https://${o.domain}/01/${o.gtin}${o.batch !== undefined ? `/10/${encodeURIComponent(o.batch)}` : ""}/21/${encodeURIComponent(o.serial)}`
