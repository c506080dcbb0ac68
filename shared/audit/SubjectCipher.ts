/**
 * AES-256-GCM sealing of personal identifiers with a per-subject key (Node only: node:crypto).
 * Also wraps subject keys under the PII master key for storage in `subject_keys.key`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import { Either, Schema } from "effect"
import type { LeafEntry, LeafParty } from "./AuditEntry.js"
import { concatBytes, utf8 } from "./Bytes.js"
import { sealAad } from "./AuditEntry.js"

export class SealFailed extends Schema.TaggedError<SealFailed>()("SealFailed", { reason: Schema.String }) {}

const TAG = 16

export const sealBytes = (key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) => {
  const iv = new Uint8Array(randomBytes(12))
  const c = createCipheriv("aes-256-gcm", key, iv)
  c.setAAD(aad)
  const ct = concatBytes(c.update(plaintext), c.final())
  return { iv, sealed: concatBytes(ct, c.getAuthTag()) }
}

export const openBytes = (
  key: Uint8Array,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array
): Either.Either<Uint8Array, SealFailed> => {
  try {
    const d = createDecipheriv("aes-256-gcm", key, iv)
    d.setAAD(aad)
    d.setAuthTag(sealed.subarray(sealed.length - TAG))
    return Either.right(concatBytes(d.update(sealed.subarray(0, sealed.length - TAG)), d.final()))
  } catch {
    return Either.left(new SealFailed({ reason: "authentication failed (wrong key or altered ciphertext)" }))
  }
}

/** A party as the caller knows it, before sealing. */
export type Party =
  | { readonly _tag: "None" }
  | { readonly _tag: "Public"; readonly id: string }
  /** A natural person: `id` is sealed under the key of `subjectId`. */
  | { readonly _tag: "Person"; readonly subjectId: string; readonly id: string }

export interface AuditEntry {
  readonly kind: string
  readonly actor: Party
  readonly subject: Party
  readonly payloadDigest: Uint8Array
  readonly timeMs: number
}

const sealParty = (p: Party, role: "actor" | "subject", key: Uint8Array | undefined): LeafParty | undefined => {
  if (p._tag !== "Person") return p
  if (key === undefined) return undefined
  return { _tag: "Sealed", subjectId: p.subjectId, ...sealBytes(key, utf8(p.id), sealAad(role)) }
}

/** Seals every personal party with its subject's key; `keys` maps subjectId → 32-byte key. */
export const sealEntry = (
  e: AuditEntry,
  keys: ReadonlyMap<string, Uint8Array>
): Either.Either<LeafEntry, SealFailed> => {
  const keyOf = (p: Party) => (p._tag === "Person" ? keys.get(p.subjectId) : undefined)
  const actor = sealParty(e.actor, "actor", keyOf(e.actor))
  const subject = sealParty(e.subject, "subject", keyOf(e.subject))
  if (actor === undefined || subject === undefined)
    return Either.left(new SealFailed({ reason: "no key for a personal party (erased or never created)" }))
  return Either.right({ kind: e.kind, actor, subject, payloadDigest: e.payloadDigest, timeMs: e.timeMs })
}

/** Opens a sealed party; `undefined` key (erased) yields `Erased`, so callers can show "[erased]". */
export const openParty = (
  p: LeafParty,
  role: "actor" | "subject",
  key: Uint8Array | undefined
): Party | { readonly _tag: "Erased"; readonly subjectId: string } => {
  if (p._tag !== "Sealed") return p
  if (key === undefined) return { _tag: "Erased", subjectId: p.subjectId }
  const opened = openBytes(key, p.iv, p.sealed, sealAad(role))
  return Either.isRight(opened)
    ? { _tag: "Person", subjectId: p.subjectId, id: new TextDecoder().decode(opened.right) }
    : { _tag: "Erased", subjectId: p.subjectId }
}

const WRAP_AAD = utf8("brandme-subject-key-v1")

/** Stored form of a subject key: iv(12) ‖ encrypted key(32) ‖ tag(16), under the PII master key. */
export const wrapSubjectKey = (master: Uint8Array, key: Uint8Array): Uint8Array => {
  const { iv, sealed } = sealBytes(master, key, WRAP_AAD)
  return concatBytes(iv, sealed)
}

export const unwrapSubjectKey = (master: Uint8Array, stored: Uint8Array): Either.Either<Uint8Array, SealFailed> =>
  stored.length !== 12 + 32 + TAG
    ? Either.left(new SealFailed({ reason: "stored subject key has the wrong length (erased?)" }))
    : openBytes(master, stored.subarray(0, 12), stored.subarray(12), WRAP_AAD)

export const newSubjectKey = (): Uint8Array => new Uint8Array(randomBytes(32))
