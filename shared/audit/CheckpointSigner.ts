/**
 * Ed25519 signing of checkpoints (Node only: node:crypto). Verification is Checkpoint.ts (browser-safe).
 *
 * Signer key text (same shape as golang.org/x/mod/sumdb/note): `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`
 * where seed is the 32-byte RFC 8032 private key. This is what AUDIT_SIGNING_KEY holds.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto"
import { Either, Schema } from "effect"
import { bytesEqual, concatBytes, fromBase64, fromHex, toBase64, toHex } from "./Bytes.js"
import { type Checkpoint, formatCheckpoint, formatSignatureLine, formatVerifierKey, keyId } from "./Checkpoint.js"

export class InvalidSignerKey extends Schema.TaggedError<InvalidSignerKey>()("InvalidSignerKey", {
  reason: Schema.String
}) {}

export interface CheckpointSigner {
  readonly name: string
  readonly keyId: Uint8Array
  readonly publicKey: Uint8Array
  /** The verifier key text clients pin (`<name>+<hex id>+<base64 key>`). */
  readonly verifierKey: string
  readonly sign: (message: Uint8Array) => Uint8Array
}

// DER prefixes that wrap a raw Ed25519 seed / public key (RFC 8410) so node:crypto accepts them.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420")!
const SPKI_PREFIX_LENGTH = 12

export const signerFromSeed = (name: string, seed: Uint8Array): CheckpointSigner => {
  const privateKey = createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)),
    format: "der",
    type: "pkcs8"
  })
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" })
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX_LENGTH))
  return {
    name,
    keyId: keyId(name, publicKey),
    publicKey,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (message) => new Uint8Array(sign(null, message, privateKey))
  }
}

export const parseSignerKey = (text: string): Either.Either<CheckpointSigner, InvalidSignerKey> => {
  const bad = (reason: string) => Either.left(new InvalidSignerKey({ reason }))
  // Split on the first four '+' only: standard base64 may itself contain '+'.
  const [p0, p1, name = "", hash = "", ...rest] = text.trim().split("+")
  const key = rest.join("+")
  if (p0 !== "PRIVATE" || p1 !== "KEY" || rest.length === 0)
    return bad("expected PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>")
  const raw = fromBase64(key)
  if (name.length === 0 || /\s/u.test(name)) return bad("key name is empty or has spaces")
  if (raw === undefined || raw.length !== 33 || raw[0] !== 0x01) return bad("key is not base64(0x01 ‖ 32-byte seed)")
  const signer = signerFromSeed(name, raw.slice(1))
  const id = fromHex(hash)
  if (id === undefined || !bytesEqual(id, signer.keyId)) return bad("key id does not match the key")
  return Either.right(signer)
}

export const formatSignerKey = (name: string, seed: Uint8Array): string => {
  const signer = signerFromSeed(name, seed)
  return `PRIVATE+KEY+${name}+${toHex(signer.keyId)}+${toBase64(concatBytes(new Uint8Array([0x01]), seed))}`
}

/** A fresh key pair, e.g. for tests and `audit-verify keygen`-style setup. */
export const generateSignerKey = (name: string): { readonly signerKey: string; readonly verifierKey: string } => {
  const seed = new Uint8Array(randomBytes(32))
  return { signerKey: formatSignerKey(name, seed), verifierKey: signerFromSeed(name, seed).verifierKey }
}

/** The signed note for a checkpoint: body, blank line, one signature line. */
export const signCheckpoint = (signer: CheckpointSigner, checkpoint: Checkpoint): string => {
  const text = formatCheckpoint(checkpoint)
  const signature = signer.sign(new TextEncoder().encode(text))
  return `${text}\n${formatSignatureLine({ name: signer.name, keyId: signer.keyId, signature })}`
}
