import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeLeaf, encodeLeaf, type LeafEntry, payloadDigest } from "./AuditEntry.js"
import { toHex } from "./Bytes.js"
import { hashLeaf, MemoryTree, verifyInclusionSync } from "./Merkle.js"
import {
  type AuditEntry,
  newSubjectKey,
  openParty,
  sealEntry,
  unwrapSubjectKey,
  wrapSubjectKey
} from "./SubjectCipher.js"

const SUBJECT = "7f1d8a52-2b1c-4c7e-9d8a-0a1b2c3d4e5f"
const entry: AuditEntry = {
  kind: "scan.recorded",
  actor: { _tag: "Person", subjectId: SUBJECT, id: "person:7f1d8a52 alice@example.com" },
  subject: { _tag: "Public", id: "garment:01/09506000134352/21/ABC123" },
  payloadDigest: payloadDigest({ b: 2, a: [1, { y: null, x: "é" }] }),
  timeMs: Date.UTC(2026, 10, 26, 1, 2, 3, 456)
}

const plain: LeafEntry = {
  kind: entry.kind,
  actor: { _tag: "Public", id: "brand:acme" },
  subject: { _tag: "Public", id: "garment:01/09506000134352/21/ABC123" },
  payloadDigest: entry.payloadDigest,
  timeMs: entry.timeMs
}

describe("leaf encoding", () => {
  it("is canonical: same entry → same bytes; payload digest ignores key order", () => {
    expect(toHex(Either.getOrThrow(encodeLeaf(plain)))).toBe(toHex(Either.getOrThrow(encodeLeaf({ ...plain }))))
    expect(toHex(payloadDigest({ a: 1, b: 2 }))).toBe(toHex(payloadDigest({ b: 2, a: 1 })))
  })

  it("round-trips and rejects truncated or extended bytes", () => {
    const parties = fc.oneof(
      fc.constant({ _tag: "None" } as const),
      fc.string({ minLength: 1, maxLength: 40 }).map((id) => ({ _tag: "Public", id }) as const)
    )
    fc.assert(
      fc.property(parties, parties, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), (a, s, d, t) => {
        const e: LeafEntry = { kind: "consent.changed", actor: a, subject: s, payloadDigest: d, timeMs: t }
        const bytes = Either.getOrThrow(encodeLeaf(e))
        expect(Either.getOrThrow(decodeLeaf(bytes))).toEqual(e)
        expect(Either.isLeft(decodeLeaf(bytes.slice(0, -1)))).toBe(true)
        expect(Either.isLeft(decodeLeaf(Uint8Array.from([...bytes, 0])))).toBe(true)
      })
    )
  })

  it("refuses kinds, digests and times outside the canonical form", () => {
    expect(Either.isLeft(encodeLeaf({ ...plain, kind: "Scan Recorded" }))).toBe(true)
    expect(Either.isLeft(encodeLeaf({ ...plain, timeMs: 1.5 }))).toBe(true)
    expect(Either.isLeft(encodeLeaf({ ...plain, payloadDigest: new Uint8Array(31) }))).toBe(true)
  })
})

describe("personal data", () => {
  it("is sealed before hashing, and erasing the key keeps the proof valid", () => {
    const key = newSubjectKey()
    const leaf = Either.getOrThrow(sealEntry(entry, new Map([[SUBJECT, key]])))
    const bytes = Either.getOrThrow(encodeLeaf(leaf))
    expect(Buffer.from(bytes).includes(Buffer.from("alice@example.com"))).toBe(false)
    const tree = new MemoryTree()
    tree.append(new Uint8Array([1]))
    tree.append(bytes)
    tree.append(new Uint8Array([2]))
    const root = Either.getOrThrow(tree.root())
    const proof = Either.getOrThrow(tree.inclusionProof(1))

    const decoded = Either.getOrThrow(decodeLeaf(bytes))
    expect(openParty(decoded.actor, "actor", key)).toEqual(entry.actor)
    // Crypto-shredding: the key is gone; the leaf bytes are untouched so the same proof still verifies.
    expect(openParty(decoded.actor, "actor", undefined)).toEqual({ _tag: "Erased", subjectId: SUBJECT })
    expect(openParty(decoded.actor, "actor", newSubjectKey())._tag).toBe("Erased")
    expect(Either.isRight(verifyInclusionSync(1, 3, hashLeaf(bytes), proof, root))).toBe(true)
  })

  it("refuses to write a personal party without its key", () => {
    expect(Either.isLeft(sealEntry(entry, new Map()))).toBe(true)
  })

  it("wraps subject keys under the master key", () => {
    const master = newSubjectKey()
    const key = newSubjectKey()
    const stored = wrapSubjectKey(master, key)
    expect(toHex(Either.getOrThrow(unwrapSubjectKey(master, stored)))).toBe(toHex(key))
    expect(Either.isLeft(unwrapSubjectKey(newSubjectKey(), stored))).toBe(true)
    expect(Either.isLeft(unwrapSubjectKey(master, new Uint8Array(0)))).toBe(true)
  })
})
