/**
 * Canonical leaf encoding of an audit entry (browser-safe, pure).
 *
 * The leaf bytes are what the Merkle tree hashes, so one entry has exactly one encoding:
 *
 *   leaf    = 0x01 (version) ‖ str(kind) ‖ party(actor) ‖ party(subject) ‖ payload digest (32 bytes, SHA-256)
 *             ‖ time (uint64 big-endian, milliseconds since the Unix epoch, UTC)
 *   str     = uint16 big-endian byte length ‖ UTF-8 bytes
 *   party   = 0x00                                                  — none (anonymous scanner, system)
 *           | 0x01 ‖ str(identifier)                                 — public: brand, device, service ids
 *           | 0x02 ‖ subject key id (16-byte UUID) ‖ iv (12) ‖ bin   — personal: AES-256-GCM under that subject's key
 *   bin     = uint16 big-endian byte length ‖ ciphertext ‖ 16-byte tag
 *
 * Personal identifiers are sealed *before* hashing, so erasing the subject's key (crypto-shredding) leaves
 * the leaf bytes — and every proof over them — unchanged while the identifier becomes unreadable.
 */
import { Either, Schema } from "effect"
import { concatBytes, toHex, utf8 } from "./Bytes.js"
import { sha256 } from "./Sha256.js"

export class MalformedLeaf extends Schema.TaggedError<MalformedLeaf>()("MalformedLeaf", {
  reason: Schema.String
}) {}

export const LEAF_VERSION = 0x01
export const KIND = /^[a-z][a-z0-9._-]{0,63}$/

export type LeafParty =
  | { readonly _tag: "None" }
  | { readonly _tag: "Public"; readonly id: string }
  | {
      readonly _tag: "Sealed"
      /** subject_keys.subject_id of the key that seals this identifier. */
      readonly subjectId: string
      readonly iv: Uint8Array
      /** Ciphertext followed by the 16-byte GCM tag. */
      readonly sealed: Uint8Array
    }

/** An entry as it sits in a leaf: personal parties already sealed. */
export interface LeafEntry {
  readonly kind: string
  readonly actor: LeafParty
  readonly subject: LeafParty
  readonly payloadDigest: Uint8Array
  readonly timeMs: number
}

const u16 = (n: number) => new Uint8Array([(n >>> 8) & 0xff, n & 0xff])

const uuidBytes = (id: string): Uint8Array | undefined => {
  const hex = id.toLowerCase().replace(/-/g, "")
  if (!/^[0-9a-f]{32}$/.test(hex) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    return undefined
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
const uuidString = (b: Uint8Array): string => {
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const TAG_NONE = new Uint8Array([0x00])
const TAG_PUBLIC = new Uint8Array([0x01])
const TAG_SEALED = new Uint8Array([0x02])
const VERSION = new Uint8Array([LEAF_VERSION])

// Parts, not bytes: the leaf is assembled with one allocation (this runs for every appended entry).
const encodeParty = (p: LeafParty): Either.Either<ReadonlyArray<Uint8Array>, MalformedLeaf> => {
  switch (p._tag) {
    case "None":
      return Either.right([TAG_NONE])
    case "Public": {
      const id = utf8(p.id)
      if (id.length === 0 || id.length > 0xffff)
        return Either.left(new MalformedLeaf({ reason: "identifier empty or too long" }))
      return Either.right([TAG_PUBLIC, u16(id.length), id])
    }
    case "Sealed": {
      const id = uuidBytes(p.subjectId)
      if (id === undefined) return Either.left(new MalformedLeaf({ reason: "subject key id is not a UUID" }))
      if (p.iv.length !== 12 || p.sealed.length < 16 || p.sealed.length > 0xffff)
        return Either.left(new MalformedLeaf({ reason: "sealed identifier has a bad iv or length" }))
      return Either.right([TAG_SEALED, id, p.iv, u16(p.sealed.length), p.sealed])
    }
  }
}

/** uint64 big-endian of a safe integer without BigInt. */
const u64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8)
  const hi = Math.floor(n / 0x100000000)
  const lo = n >>> 0
  out[0] = hi >>> 24
  out[1] = (hi >>> 16) & 0xff
  out[2] = (hi >>> 8) & 0xff
  out[3] = hi & 0xff
  out[4] = lo >>> 24
  out[5] = (lo >>> 16) & 0xff
  out[6] = (lo >>> 8) & 0xff
  out[7] = lo & 0xff
  return out
}

export const encodeLeaf = (e: LeafEntry): Either.Either<Uint8Array, MalformedLeaf> => {
  if (!KIND.test(e.kind))
    return Either.left(new MalformedLeaf({ reason: `kind ${JSON.stringify(e.kind)} is not allowed` }))
  if (e.payloadDigest.length !== 32) return Either.left(new MalformedLeaf({ reason: "payload digest is not 32 bytes" }))
  if (!Number.isSafeInteger(e.timeMs) || e.timeMs < 0)
    return Either.left(new MalformedLeaf({ reason: "time is not whole non-negative milliseconds" }))
  const actor = encodeParty(e.actor)
  if (Either.isLeft(actor)) return Either.left(actor.left)
  const subject = encodeParty(e.subject)
  if (Either.isLeft(subject)) return Either.left(subject.left)
  const kind = utf8(e.kind)
  return Either.right(
    concatBytes(VERSION, u16(kind.length), kind, ...actor.right, ...subject.right, e.payloadDigest, u64(e.timeMs))
  )
}

/** Strict decoder: every byte must be accounted for. */
export const decodeLeaf = (b: Uint8Array): Either.Either<LeafEntry, MalformedLeaf> => {
  let at = 0
  const fail = (reason: string) => Either.left(new MalformedLeaf({ reason: `${reason} at byte ${at}` }))
  const take = (n: number): Uint8Array | undefined => {
    if (at + n > b.length) return undefined
    const out = b.slice(at, at + n)
    at += n
    return out
  }
  const takeLen = (): Uint8Array | undefined => {
    const l = take(2)
    return l === undefined ? undefined : take((l[0]! << 8) | l[1]!)
  }
  const decoder = new TextDecoder("utf-8", { fatal: true })
  const takeStr = (): string | undefined => {
    const raw = takeLen()
    if (raw === undefined) return undefined
    try {
      return decoder.decode(raw)
    } catch {
      return undefined
    }
  }
  const takeParty = (): LeafParty | undefined => {
    const tag = take(1)?.[0]
    if (tag === 0x00) return { _tag: "None" }
    if (tag === 0x01) {
      const id = takeStr()
      return id === undefined || id.length === 0 ? undefined : { _tag: "Public", id }
    }
    if (tag === 0x02) {
      const id = take(16)
      const iv = take(12)
      const sealed = takeLen()
      if (id === undefined || iv === undefined || sealed === undefined || sealed.length < 16) return undefined
      return { _tag: "Sealed", subjectId: uuidString(id), iv, sealed }
    }
    return undefined
  }
  if (take(1)?.[0] !== LEAF_VERSION) return fail("unknown leaf version")
  const kind = takeStr()
  if (kind === undefined || !KIND.test(kind)) return fail("bad kind")
  const actor = takeParty()
  if (actor === undefined) return fail("bad actor")
  const subject = takeParty()
  if (subject === undefined) return fail("bad subject")
  const payloadDigest = take(32)
  const time = take(8)
  if (payloadDigest === undefined || time === undefined) return fail("truncated digest or time")
  if (at !== b.length) return fail("trailing bytes")
  const timeMs = new DataView(time.buffer, time.byteOffset, 8).getBigUint64(0)
  if (timeMs > BigInt(Number.MAX_SAFE_INTEGER)) return fail("time out of range")
  return Either.right({ kind, actor, subject, payloadDigest, timeMs: Number(timeMs) })
}

/** Canonical JSON (object keys sorted, no spaces) so one payload has one digest wherever it is computed. */
export const canonicalJson = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(Reflect.get(v, k))}`)
      .join(",")}}`
  return JSON.stringify(v) ?? "null"
}

export const payloadDigest = (payload: unknown): Uint8Array => sha256(utf8(canonicalJson(payload)))

/** Additional authenticated data for a sealed identifier: binds it to its role so actor/subject cannot be swapped. */
export const sealAad = (role: "actor" | "subject"): Uint8Array => utf8(`brandme-audit-v${LEAF_VERSION}:${role}`)
