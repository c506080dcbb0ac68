import { describe, expect, it } from "vitest"
import { hashPassword, verifyPassword } from "./Password.js"
import { lookupHash, masterKeyBytes, newSubjectKey, open, seal, unwrapSubjectKey, wrapSubjectKey } from "./Pii.js"

describe("passwords", () => {
  it("verifies the right password only", async () => {
    const stored = await hashPassword("correct horse battery staple")
    expect(stored.startsWith("scrypt$32768$8$1$")).toBe(true)
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true)
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false)
    expect(await verifyPassword("x", "not-a-hash")).toBe(false)
  })
})

describe("personal data sealing", () => {
  it("opens with the subject's key, not with another; a shredded key leaves the data unreadable", () => {
    const master = masterKeyBytes("m")
    const key = newSubjectKey()
    const sealed = seal(key, "olivia@example.com")
    expect(open(key, sealed)?.toString()).toBe("olivia@example.com")
    expect(open(newSubjectKey(), sealed)).toBeUndefined()
    const wrapped = wrapSubjectKey(master, key)
    expect(unwrapSubjectKey(master, wrapped)?.equals(key)).toBe(true)
    expect(unwrapSubjectKey(masterKeyBytes("other"), wrapped)).toBeUndefined()
    const tampered = Buffer.from(sealed)
    const last = tampered.length - 1
    tampered.writeUInt8(tampered.readUInt8(last) ^ 1, last)
    expect(open(key, tampered)).toBeUndefined()
  })

  it("lookup hashes are keyed and normalise case and spaces", () => {
    const m = masterKeyBytes("m")
    expect(lookupHash(m, " A@B.C ").equals(lookupHash(m, "a@b.c"))).toBe(true)
    expect(lookupHash(masterKeyBytes("n"), "a@b.c").equals(lookupHash(m, "a@b.c"))).toBe(false)
  })
})
