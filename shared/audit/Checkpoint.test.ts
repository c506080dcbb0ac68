import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { fromHex, toHex } from "./Bytes.js"
import {
  CheckpointSignatureRejected,
  MalformedCheckpoint,
  parseSignedCheckpoint,
  parseVerifierKey,
  verifySignedCheckpoint
} from "./Checkpoint.js"
import { generateSignerKey, parseSignerKey, signCheckpoint } from "./CheckpointSigner.js"

// Known answer from the reference implementation (golang.org/x/mod/sumdb/note documentation).
const GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
const GO_SIG = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="

const ROOT = fromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")!
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

describe("signed-note keys", () => {
  it("derives the reference key id, verifier key and signature byte for byte", () => {
    const signer = Either.getOrThrow(parseSignerKey(GO_SKEY))
    expect(signer.verifierKey).toBe(GO_VKEY)
    expect(toHex(signer.keyId)).toBe("c74f20a3")
    const sig = signer.sign(new TextEncoder().encode(GO_TEXT))
    expect(Buffer.from([...signer.keyId, ...sig]).toString("base64")).toBe(GO_SIG)
    const vkey = Either.getOrThrow(parseVerifierKey(GO_VKEY))
    expect(toHex(vkey.keyId)).toBe("c74f20a3")
  })

  it("rejects verifier keys whose id does not match", () => {
    expect(Either.isLeft(parseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"))).toBe(
      true
    )
    expect(Either.isLeft(parseVerifierKey("Other+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"))).toBe(true)
  })
})

describe("checkpoints", () => {
  const { signerKey, verifierKey } = generateSignerKey("brand.me/audit")
  const signer = Either.getOrThrow(parseSignerKey(signerKey))
  const key = Either.getOrThrow(parseVerifierKey(verifierKey))
  const note = signCheckpoint(signer, { origin: "brand.me/audit", treeSize: 8, rootHash: ROOT, extensions: [] })

  it("signs in the tlog-checkpoint layout and verifies", async () => {
    expect(note).toMatch(
      /^brand\.me\/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz\+Nw7\/RgQyg=\n\n\u2014 brand\.me\/audit \S+\n$/u
    )
    const r = await run(verifySignedCheckpoint(note, key))
    expect(Either.isRight(r) && r.right.treeSize === 8 && toHex(r.right.rootHash) === toHex(ROOT)).toBe(true)
  })

  it("rejects a changed body, a changed signature and an unknown signer", async () => {
    const other = Either.getOrThrow(parseVerifierKey(generateSignerKey("brand.me/audit").verifierKey))
    const changedSize = note.replace("\n8\n", "\n9\n")
    const sigStart = note.lastIndexOf(" ") + 10
    const flipped = note.slice(0, sigStart) + (note[sigStart] === "A" ? "B" : "A") + note.slice(sigStart + 1)
    for (const [n, k] of [
      [changedSize, key],
      [flipped, key],
      [note, other]
    ] as const) {
      const r = await run(verifySignedCheckpoint(n, k))
      expect(Either.isLeft(r) && r.left instanceof CheckpointSignatureRejected).toBe(true)
    }
  })

  it("parses strictly", () => {
    const body = "brand.me/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    const sig = `\u2014 brand.me/audit ${GO_SIG}\n`
    const bad = [
      body + sig, // no blank line
      `${body}\n`, // no signatures
      `${body}\n${sig}`.slice(0, -1), // no final newline
      `brand.me/audit\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n${sig}`, // leading zero
      `brand.me/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg\n\n${sig}`, // unpadded base64
      `brand.me/audit\n8\nAAAA\n\n${sig}`, // root not 32 bytes
      `\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n${sig}`, // empty origin
      `brand.me/audit\n8\n\n${sig}`, // missing root
      `${body}\n- brand.me/audit ${GO_SIG}\n`, // ascii dash
      `${body}\n\u2014 brand.me/audit  ${GO_SIG}\n`, // double space
      `${body}\n\u2014 brand.me/audit AAAA\n`, // too short
      `brand.me/au\tdit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n${sig}` // control char
    ]
    for (const n of bad) {
      const r = parseSignedCheckpoint(n)
      expect(Either.isLeft(r) && r.left instanceof MalformedCheckpoint, JSON.stringify(n)).toBe(true)
    }
    expect(Either.isRight(parseSignedCheckpoint(`${body}\n${sig}`))).toBe(true)
  })
})
