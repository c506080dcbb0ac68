/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) in a C2SP signed note (c2sp.org/signed-note), Ed25519 only.
 *
 *   <origin>\n<tree size>\n<base64 root>\n[extension lines\n]\n— <key name> <base64(4-byte key ID ‖ signature)>\n…
 *
 * key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]; verifier key = `<name>+<hex key ID>+<base64(0x01 ‖ key)>`.
 * Browser-safe: parsing is pure, verification uses WebCrypto Ed25519 (`crypto.subtle`). Signing lives in
 * CheckpointSigner.ts (Node). Parsing is strict: anything not exactly in this form is a MalformedCheckpoint.
 */
import { Effect, Either, Schema } from "effect"
import { bytesEqual, concatBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from "./Bytes.js"
import { sha256 } from "./Sha256.js"

export class MalformedCheckpoint extends Schema.TaggedError<MalformedCheckpoint>()("MalformedCheckpoint", {
  reason: Schema.String
}) {}

export class InvalidVerifierKey extends Schema.TaggedError<InvalidVerifierKey>()("InvalidVerifierKey", {
  reason: Schema.String
}) {}

export class CheckpointSignatureRejected extends Schema.TaggedError<CheckpointSignatureRejected>()(
  "CheckpointSignatureRejected",
  { reason: Schema.String }
) {}

export interface Checkpoint {
  readonly origin: string
  readonly treeSize: number
  readonly rootHash: Uint8Array
  /** Opaque extension lines; we never write any (not auditable by monitors) but parse them per the spec. */
  readonly extensions: ReadonlyArray<string>
}

export interface NoteSignature {
  readonly name: string
  readonly keyId: Uint8Array
  readonly signature: Uint8Array
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  readonly text: string
  readonly signatures: ReadonlyArray<NoteSignature>
}

export interface VerifierKey {
  readonly name: string
  readonly keyId: Uint8Array
  readonly publicKey: Uint8Array
}

const ED25519 = 0x01
const MAX_SIGNATURES = 64
const EM_DASH = "\u2014"
const NAME = /^[^\s+]+$/u
const DECIMAL = /^(?:0|[1-9][0-9]*)$/
// C0 controls other than newline, plus DEL; the spec forbids the former, DEL is refused for good measure.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/

const malformed = (reason: string) => Either.left(new MalformedCheckpoint({ reason }))

export const keyId = (name: string, publicKey: Uint8Array): Uint8Array =>
  sha256(utf8(name), new Uint8Array([0x0a, ED25519]), publicKey).slice(0, 4)

export const formatVerifierKey = (name: string, publicKey: Uint8Array): string =>
  `${name}+${toHex(keyId(name, publicKey))}+${toBase64(concatBytes(new Uint8Array([ED25519]), publicKey))}`

export const parseVerifierKey = (s: string): Either.Either<VerifierKey, InvalidVerifierKey> => {
  const bad = (reason: string) => Either.left(new InvalidVerifierKey({ reason }))
  // Split on the first two '+' only: standard base64 may itself contain '+'.
  const [name = "", hash = "", ...rest] = s.trim().split("+")
  const key = rest.join("+")
  if (rest.length === 0) return bad("expected <name>+<hex key id>+<base64 key>")
  if (!NAME.test(name)) return bad("key name is empty or has spaces")
  const id = /^[0-9a-f]{8}$/.test(hash) ? fromHex(hash) : undefined
  if (id === undefined) return bad("key id is not 8 lowercase hex digits")
  const raw = fromBase64(key)
  if (raw === undefined || raw.length !== 33 || raw[0] !== ED25519) return bad("key is not base64(0x01 ‖ Ed25519 key)")
  const publicKey = raw.slice(1)
  if (!bytesEqual(keyId(name, publicKey), id)) return bad("key id does not match name and key")
  return Either.right({ name, keyId: id, publicKey })
}

export const formatCheckpoint = (c: Checkpoint): string =>
  [c.origin, String(c.treeSize), toBase64(c.rootHash), ...c.extensions].map((l) => `${l}\n`).join("")

export const parseCheckpointText = (text: string): Either.Either<Checkpoint, MalformedCheckpoint> => {
  if (!text.endsWith("\n")) return malformed("checkpoint text must end with a newline")
  const lines = text.slice(0, -1).split("\n")
  if (lines.length < 3) return malformed("checkpoint needs origin, size and root lines")
  const [origin = "", size = "", root = "", ...extensions] = lines
  if (origin.length === 0) return malformed("origin line is empty")
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) return malformed("tree size is not a decimal")
  const rootHash = fromBase64(root)
  if (rootHash === undefined || rootHash.length !== 32) return malformed("root line is not base64 of 32 bytes")
  if (extensions.some((l) => l.length === 0)) return malformed("extension lines must be non-empty")
  return Either.right({ origin, treeSize: Number(size), rootHash, extensions })
}

export const formatSignatureLine = (s: NoteSignature): string =>
  `${EM_DASH} ${s.name} ${toBase64(concatBytes(s.keyId, s.signature))}\n`

export const parseNote = (note: string): Either.Either<SignedNote, MalformedCheckpoint> => {
  if (CONTROL.test(note)) return malformed("note contains control characters")
  if (!note.endsWith("\n")) return malformed("note must end with a newline")
  const split = note.lastIndexOf("\n\n")
  if (split < 0) return malformed("no blank line before the signatures")
  const text = note.slice(0, split + 1)
  const lines = note.slice(split + 2, -1).split("\n")
  if (lines.length > MAX_SIGNATURES) return malformed("too many signatures")
  const signatures: Array<NoteSignature> = []
  for (const line of lines) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line)
    if (m === null) return malformed("signature line is not '— <name> <base64>'")
    const name = m[1] ?? ""
    const b64 = m[2] ?? ""
    if (!NAME.test(name)) return malformed("signature key name has a plus or space")
    const raw = fromBase64(b64)
    if (raw === undefined || raw.length < 5) return malformed("signature is not base64 of key id ‖ signature")
    signatures.push({ name, keyId: raw.slice(0, 4), signature: raw.slice(4) })
  }
  return Either.right({ text, signatures })
}

export const parseSignedCheckpoint = (
  note: string
): Either.Either<{ readonly note: SignedNote; readonly checkpoint: Checkpoint }, MalformedCheckpoint> =>
  Either.flatMap(parseNote(note), (n) =>
    Either.map(parseCheckpointText(n.text), (checkpoint) => ({ note: n, checkpoint }))
  )

const ed25519Verify = (publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) =>
  Effect.tryPromise({
    try: async () => {
      const key = await globalThis.crypto.subtle.importKey("raw", Uint8Array.from(publicKey), "Ed25519", false, [
        "verify"
      ])
      return globalThis.crypto.subtle.verify("Ed25519", key, Uint8Array.from(signature), Uint8Array.from(message))
    },
    catch: () =>
      new CheckpointSignatureRejected({ reason: "Ed25519 verification is unavailable or the key is invalid" })
  })

/**
 * Verifies a signed checkpoint against one trusted key (signed-note rules): signatures by other keys are
 * ignored; a failing signature by the trusted key rejects the note; no signature by it rejects the note.
 */
export const verifySignedCheckpoint = (
  note: string,
  key: VerifierKey
): Effect.Effect<Checkpoint, MalformedCheckpoint | CheckpointSignatureRejected> =>
  Effect.gen(function* () {
    const parsed = yield* parseSignedCheckpoint(note)
    const mine = parsed.note.signatures.filter((s) => s.name === key.name && bytesEqual(s.keyId, key.keyId))
    if (mine.length === 0)
      return yield* new CheckpointSignatureRejected({ reason: `no signature by ${key.name}+${toHex(key.keyId)}` })
    const message = utf8(parsed.note.text)
    for (const s of mine) {
      const ok = s.signature.length === 64 && (yield* ed25519Verify(key.publicKey, s.signature, message))
      if (!ok) return yield* new CheckpointSignatureRejected({ reason: `signature by ${key.name} does not verify` })
    }
    return parsed.checkpoint
  }).pipe(Effect.withSpan("Checkpoint.verify"))
