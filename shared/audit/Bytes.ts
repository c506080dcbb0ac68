/**
 * Byte helpers shared by the audit modules (browser-safe: no Node imports).
 * Decoders are strict and return `undefined` on malformed input so callers map that to their own typed error.
 */
const HEX = /^(?:[0-9a-fA-F]{2})*$/
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export const toHex = (b: Uint8Array): string => {
  let s = ""
  for (const x of b) s += x.toString(16).padStart(2, "0")
  return s
}

export const fromHex = (s: string): Uint8Array | undefined => {
  if (!HEX.test(s)) return undefined
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16)
  return out
}

export const toBase64 = (b: Uint8Array): string => {
  let bin = ""
  for (const x of b) bin += String.fromCharCode(x)
  return btoa(bin)
}

/** Standard base64 with padding (RFC 4648 §4); rejects whitespace, URL alphabet and missing padding. */
export const fromBase64 = (s: string): Uint8Array | undefined => {
  if (!B64.test(s)) return undefined
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  // Reject non-canonical encodings (non-zero padding bits) so one value has one text form.
  return toBase64(out) === s ? out : undefined
}

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

export const concatBytes = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const encoder = new TextEncoder()
export const utf8 = (s: string): Uint8Array => encoder.encode(s)
