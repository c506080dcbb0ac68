import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto"

/**
 * Personal data is sealed with a per-subject key (AES-256-GCM). Subject keys are stored wrapped
 * by the PII master key. Erasing a subject deletes its key: every sealed value about them
 * becomes unreadable while the rows (scan events, audit leaves) and their hashes stay intact.
 */
const IV = 12
const TAG = 16

export const masterKeyBytes = (masterKey: string): Buffer =>
  createHash("sha256").update(`brandme-pii:${masterKey}`).digest()

export const newSubjectKey = (): Buffer => randomBytes(32)

export const seal = (key: Uint8Array, plaintext: string | Uint8Array): Buffer => {
  const iv = randomBytes(IV)
  const cipher = createCipheriv("aes-256-gcm", key, iv)
  const body = Buffer.concat([
    cipher.update(typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext),
    cipher.final()
  ])
  return Buffer.concat([iv, cipher.getAuthTag(), body])
}

/** Returns undefined when the value cannot be opened with this key (wrong key, tampered bytes). */
export const open = (key: Uint8Array, sealed: Uint8Array): Buffer | undefined => {
  if (sealed.length < IV + TAG) return undefined
  const buf = Buffer.from(sealed)
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(0, IV))
    decipher.setAuthTag(buf.subarray(IV, IV + TAG))
    return Buffer.concat([decipher.update(buf.subarray(IV + TAG)), decipher.final()])
  } catch {
    return undefined
  }
}

/** The one wrapping of subject keys: identity (users) and compliance (audit subjects) both read and write it. */
export const wrapSubjectKey = (master: Uint8Array, subjectKey: Uint8Array): Buffer => seal(master, subjectKey)
export const unwrapSubjectKey = (master: Uint8Array, wrapped: Uint8Array): Buffer | undefined => open(master, wrapped)

/** A keyed lookup hash: find a user by email without storing the email in clear. */
export const lookupHash = (master: Buffer, value: string): Buffer =>
  createHmac("sha256", master).update(value.trim().toLowerCase()).digest()
