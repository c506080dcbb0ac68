import { Serialization } from "@cardano-sdk/core"
import { Either } from "effect"

/** CIP-20 transaction messages live under metadata label 674 as `{ msg: [text ≤ 64 bytes, ...] }`. */
export const CIP20_LABEL = 674n
export const MAX_METADATA_TEXT_BYTES = 64
export const ANCHOR_HEADER = "brandme-anchor/v1"

export interface AnchorPayload {
  readonly origin: string
  readonly treeSize: number
  readonly rootHex: string
}

const utf8Length = (s: string): number => new TextEncoder().encode(s).length

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes without cutting a code point. */
const chunkUtf8 = (text: string, maxBytes: number): Array<string> => {
  const out: Array<string> = []
  let current = ""
  for (const ch of text) {
    if (utf8Length(current + ch) > maxBytes) {
      out.push(current)
      current = ""
    }
    current += ch
  }
  if (current !== "") out.push(current)
  return out
}

const field = (key: string, value: string): Array<string> =>
  chunkUtf8(value, MAX_METADATA_TEXT_BYTES - key.length - 1).map((c) => `${key}:${c}`)

/**
 * The anchor as CIP-20 lines: a header, then `origin:`, `size:` and `root:` lines; a value longer than
 * one line is continued on further lines with the same key (root hex is 64 chars, so it takes two).
 */
export const anchorMessages = (p: AnchorPayload): ReadonlyArray<string> => [
  ANCHOR_HEADER,
  ...field("origin", p.origin),
  `size:${p.treeSize}`,
  ...field("root", p.rootHex.toLowerCase())
]

export const validatePayload = (p: AnchorPayload): Either.Either<AnchorPayload, string> => {
  if (p.origin.length === 0) return Either.left("origin is empty")
  if (!Number.isSafeInteger(p.treeSize) || p.treeSize < 0) return Either.left("treeSize must be a non-negative integer")
  if (!/^[0-9a-fA-F]{64}$/.test(p.rootHex)) return Either.left("rootHex must be 32 bytes of hex")
  return Either.right({ ...p, rootHex: p.rootHex.toLowerCase() })
}

/** Parses anchor lines back; strict about order so that a hand-edited or foreign message is refused. */
export const parseAnchorMessages = (lines: ReadonlyArray<string>): Either.Either<AnchorPayload, string> => {
  if (lines[0] !== ANCHOR_HEADER) return Either.left(`first message line must be "${ANCHOR_HEADER}"`)
  const order = ["origin", "size", "root"]
  const values = new Map<string, string>()
  let stage = 0
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":")
    const key = colon > 0 ? line.slice(0, colon) : ""
    const at = order.indexOf(key)
    if (at < 0) return Either.left(`unexpected message line "${line}"`)
    if (at < stage) return Either.left(`"${key}" lines out of order`)
    if (key === "size" && values.has("size")) return Either.left("size given twice")
    stage = at
    values.set(key, (values.get(key) ?? "") + line.slice(colon + 1))
  }
  const size = values.get("size") ?? ""
  if (!/^(0|[1-9][0-9]*)$/.test(size)) return Either.left("size must be a decimal integer")
  return validatePayload({
    origin: values.get("origin") ?? "",
    treeSize: Number(size),
    rootHex: values.get("root") ?? ""
  })
}

/** `{ msg: [lines] }` as a metadatum (throws if a line is over 64 bytes — callers wrap). */
export const cip20Metadatum = (lines: ReadonlyArray<string>): Serialization.TransactionMetadatum => {
  const list = new Serialization.MetadatumList()
  for (const line of lines) list.add(Serialization.TransactionMetadatum.newText(line))
  const map = new Serialization.MetadatumMap()
  map.insert(Serialization.TransactionMetadatum.newText("msg"), Serialization.TransactionMetadatum.newList(list))
  return Serialization.TransactionMetadatum.newMap(map)
}

/** Generic CIP-20 shape check of label 674: a map with key "msg" holding a non-empty list of short texts. */
export const cip20Lines = (
  metadata: Serialization.GeneralTransactionMetadata | undefined
): Either.Either<ReadonlyArray<string>, string> => {
  const entry = metadata?.metadata()?.get(CIP20_LABEL)
  if (entry === undefined) return Either.left("no metadata under label 674")
  const map = entry.asMap()
  if (map === undefined) return Either.left("label 674 must be a map")
  const msg = map.get(Serialization.TransactionMetadatum.newText("msg"))
  const list = msg?.asList()
  if (list === undefined) return Either.left('label 674 needs "msg": [text, ...]')
  if (list.getLength() === 0) return Either.left('"msg" is empty')
  const lines: Array<string> = []
  for (let i = 0; i < list.getLength(); i++) {
    const text = list.get(i).asText()
    if (text === undefined) return Either.left(`"msg"[${i}] is not text`)
    if (utf8Length(text) > MAX_METADATA_TEXT_BYTES) return Either.left(`"msg"[${i}] is longer than 64 bytes`)
    lines.push(text)
  }
  return Either.right(lines)
}
