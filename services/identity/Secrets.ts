import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { Option } from "effect"

/**
 * The one-time secrets identity hands out: device API keys and garment claim codes. Both are shown
 * once and stored only as SHA-256 hashes — they carry ≥ 80 random bits, so a plain hash cannot be
 * reversed by guessing (unlike passwords, which need scrypt).
 */

/** `bm_<12 hex prefix>_<64 hex secret>`: the prefix finds the row, the hash of the whole key proves it. */
const DEVICE_KEY = /^bm_([0-9a-f]{12})_([0-9a-f]{64})$/

export const newDeviceKey = (): { readonly key: string; readonly prefix: string } => {
  const prefix = randomBytes(6).toString("hex")
  return { key: `bm_${prefix}_${randomBytes(32).toString("hex")}`, prefix }
}

export const parseDeviceKey = (key: string): Option.Option<{ readonly prefix: string }> => {
  const m = DEVICE_KEY.exec(key.trim())
  return m === null ? Option.none() : Option.some({ prefix: m[1]! })
}

export const secretHash = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

export const sameHash = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)

/** Crockford base32 (no I, L, O, U): easy to read off a care label and type on a phone. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

/** 16 symbols = 80 random bits, shown as `XXXX-XXXX-XXXX-XXXX`. */
export const newClaimCode = (): string => {
  const bytes = randomBytes(10)
  let bits = 0n
  for (const b of bytes) bits = (bits << 8n) | BigInt(b)
  let out = ""
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(bits & 31n)]! + out
    bits >>= 5n
  }
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8, 12)}-${out.slice(12)}`
}

/** Case, spaces and dashes do not matter; the look-alikes O/I/L are read as 0/1/1. */
export const normalizeClaimCode = (code: string): string =>
  code.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1")

export const claimCodeHash = (code: string): Buffer => secretHash(`claim:${normalizeClaimCode(code)}`)
