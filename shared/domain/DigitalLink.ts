import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Either, Schema } from "effect"
import { type LinkProblem, parseDigitalLinkUri } from "./Gs1DigitalLink.js"

/**
 * What a garment tag carries: a GS1 Digital Link URI (`https://<domain>[/<prefix>]/01/<GTIN>[/22/<cpv>][/10/<batch>]/21/<serial>`,
 * or its compressed form) or a bare garment id (UUID). GTINs are normalised to 14 digits and their check
 * digit is verified; serial and batch follow GS1 AI 21 / AI 10 (≤ 20 characters of set 82, percent-decoded).
 */
export type TagRef =
  | { readonly _tag: "DigitalLink"; readonly gtin: string; readonly serial: string; readonly batch: string | null }
  | { readonly _tag: "GarmentId"; readonly id: string }

export class InvalidTag extends Schema.TaggedError<InvalidTag>()(
  "InvalidTag",
  { message: Schema.String, details: Schema.Struct({ problem: Schema.String, tag: Schema.String }) },
  HttpApiSchema.annotations({ status: 422 })
) {}

export type TagProblem = "empty" | "too-long" | "not-a-url" | "bad-scheme" | "missing-serial" | LinkProblem

const MAX_TAG_LENGTH = 2048
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const fail = (problem: TagProblem, tag: string, message: string) =>
  Either.left(new InvalidTag({ message, details: { problem, tag: tag.length > 200 ? `${tag.slice(0, 200)}…` : tag } }))

/**
 * A scanned tag: a garment id, or a GS1 Digital Link URI (uncompressed or compressed, Gs1DigitalLink.ts)
 * that names one item — its serial (AI 21) is required.
 */
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
  const parsed = parseDigitalLinkUri(tag)
  if (Either.isLeft(parsed)) return fail(parsed.left.problem, input, parsed.left.message)
  const { gtin, lot, serial } = parsed.right.key
  if (serial === null) {
    return fail("missing-serial", input, "GS1 Digital Link URI has no /21/<serial>: a garment tag names one item")
  }
  return Either.right({ _tag: "DigitalLink", gtin, serial, batch: lot })
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
