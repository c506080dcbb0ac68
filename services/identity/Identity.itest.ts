import { Effect, Exit, Redacted, Schema } from "effect"
import * as jose from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoUsers } from "../../scripts/DemoData.js"
import { masterKeyBytes, open, unwrapSubjectKey } from "../../shared/crypto/Pii.js"
import { GarmentUpdatedFact } from "../../shared/events/ScanPathFacts.js"
import { authenticateDevice, LoginPolicy } from "./Identity.js"
import { type IdentityTestEnv, startIdentity } from "./testing/IdentityTestEnv.js"

let env: IdentityTestEnv
beforeAll(async () => {
  env = await startIdentity()
})
afterAll(() => env?.close())

const demo = (role: string) => {
  const u = demoUsers.find((d) => d.role === role)
  if (u === undefined) throw new TypeError(`no demo ${role}`)
  return u
}
const login = (email: string, password: string) => env.call("POST", "/v1/auth/login", { email, password })
const token = async (email: string, password: string) => {
  const r = await login(email, password)
  expect(r.status).toBe(200)
  return String(r.body.token)
}
const register = async (email: string, displayName = "Test Person") => {
  const r = await env.call("POST", "/v1/users", { email, password: "correct-horse-battery", displayName })
  expect(r.status).toBe(202)
  const signedIn = await login(email, "correct-horse-battery")
  expect(signedIn.status).toBe(200)
  return { id: String(signedIn.body.user.id), token: String(signedIn.body.token) }
}
const garmentIds = async () =>
  (
    await env.query<{ id: string; owner: string | null }>(
      "SELECT id::text AS id, owner_user_id::text AS owner FROM garments ORDER BY serial"
    )
  ).map((g) => g)

describe("identity over HTTP on Postgres, Redis and NATS", () => {
  it("signs in with the right password and refuses wrong or unknown ones alike", async () => {
    const owner = demo("owner")
    const ok = await login(owner.email, owner.password)
    expect(ok.status).toBe(200)
    expect(ok.body.tokenType).toBe("Bearer")
    expect(ok.body.expiresIn).toBe(86_400)
    expect(ok.body.user.role).toBe("owner")
    const sessions = await env.query("SELECT id FROM sessions WHERE id = $1 AND revoked_at IS NULL", [
      ok.body.sessionId
    ])
    expect(sessions).toHaveLength(1)

    const t0 = performance.now()
    const bad = await login(owner.email, "not-the-password")
    const tBad = performance.now() - t0
    const t1 = performance.now()
    const unknown = await login("nobody-here@example.com", "whatever-password")
    const tUnknown = performance.now() - t1
    expect(bad.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(unknown.body).toEqual(bad.body)
    expect(bad.body).toEqual({ error: "InvalidCredentials", message: "email or password is incorrect" })
    // unknown emails still run scrypt (a dummy hash): no fast path that reveals which emails exist
    expect(tUnknown).toBeGreaterThan(tBad * 0.3)

    const jwks = await env.call("GET", "/.well-known/jwks.json")
    expect(jwks.status).toBe(200)
    expect(jwks.body).toEqual({ keys: [] })
  })

  it("sign-out revokes the token at once; expired and forged tokens get a 401 naming the problem", async () => {
    const owner = demo("owner")
    const t = await token(owner.email, owner.password)
    expect((await env.call("GET", "/v1/me/export", undefined, t)).status).toBe(200)
    expect((await env.call("POST", "/v1/auth/logout", undefined, t)).status).toBe(204)
    const after = await env.call("GET", "/v1/me/export", undefined, t)
    expect(after.status).toBe(401)
    expect(after.body.message).toMatch(/session has ended/)
    const revoked = await env.query<{ revoked_at: Date | null }>("SELECT revoked_at FROM sessions WHERE id = $1", [
      jose.decodeJwt(t).sid
    ])
    expect(revoked[0]?.revoked_at).not.toBeNull()

    const claims = jose.decodeJwt(t)
    const sign = (key: string, exp: number) =>
      new jose.SignJWT({ role: claims.role, brand_id: null, sid: claims.sid })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(String(claims.sub))
        .setIssuer(env.config.auth.jwtIssuer)
        .setAudience("brandme")
        .setIssuedAt(exp - 3600)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key))
    const now = Math.floor(Date.now() / 1000)
    const expired = await env.call(
      "GET",
      "/v1/me/export",
      undefined,
      await sign(Redacted.value(env.config.auth.jwtSecret), now - 60)
    )
    expect(expired.status).toBe(401)
    expect(expired.body.message).toBe("token expired")
    const forged = await env.call(
      "GET",
      "/v1/me/export",
      undefined,
      await sign("attacker-secret-0123456789", now + 600)
    )
    expect(forged.status).toBe(401)
    expect(forged.body.message).toBe("token signature is invalid")
    const missing = await env.call("GET", "/v1/me/export")
    expect(missing.status).toBe(401)
    expect(missing.body.message).toMatch(/missing Authorization/)
  })

  it("creates a device key once, authenticates it, and stops it when revoked", async () => {
    const owner = demo("owner")
    const t = await token(owner.email, owner.password)
    const created = await env.call("POST", "/v1/devices", { name: "my phone" }, t)
    expect(created.status).toBe(201)
    const apiKey = String(created.body.apiKey)
    expect(apiKey).toMatch(/^bm_[0-9a-f]{12}_[0-9a-f]{64}$/)
    const stored = await env.query<{ api_key_prefix: string; api_key_hash: Buffer }>(
      "SELECT api_key_prefix, api_key_hash FROM devices WHERE id = $1",
      [created.body.id]
    )
    expect(stored[0]?.api_key_prefix).toBe(created.body.prefix)
    expect(stored[0]?.api_key_hash.toString("utf8")).not.toContain(apiKey.slice(16))

    const device = await env.run(authenticateDevice(apiKey))
    expect(device.deviceId).toBe(created.body.id)
    const wrong = await env.runExit(authenticateDevice(`${apiKey.slice(0, -4)}0000`))
    expect(Exit.isFailure(wrong)).toBe(true)

    const stranger = await register("stranger@example.com")
    expect((await env.call("DELETE", `/v1/devices/${created.body.id}`, undefined, stranger.token)).status).toBe(404)
    expect((await env.call("DELETE", `/v1/devices/${created.body.id}`, undefined, t)).status).toBe(204)
    const afterRevoke = await env.runExit(Effect.either(authenticateDevice(apiKey)))
    expect(Exit.isSuccess(afterRevoke) && afterRevoke.value._tag === "Left" && afterRevoke.value.left.message).toBe(
      "device key has been revoked"
    )
  })

  it("a claim code is claimed exactly once under concurrency, then the garment is transferred", async () => {
    const brand = demo("brand")
    const bt = await token(brand.email, brand.password)
    const unowned = (await garmentIds()).filter((g) => g.owner === null)
    const garment = unowned[0]!.id
    const issued = await env.call("POST", `/v1/garments/${garment}/claim-codes`, {}, bt)
    expect(issued.status).toBe(201)
    const code = String(issued.body.code)
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/)
    const stored = await env.query("SELECT 1 FROM claim_codes WHERE garment_id = $1 AND claimed_at IS NULL", [garment])
    expect(stored).toHaveLength(1)

    const alice = await register("alice@example.com", "Alice")
    const bob = await register("bob@example.com", "Bob")
    const results = await Promise.all(
      [alice, bob, alice, bob].map((u) => env.call("POST", "/v1/claims", { code: code.toLowerCase() }, u.token))
    )
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, 409, 409, 409])
    // the code itself admits one claim (the garment's owner check is only the second guard)
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body.message).toBe("this claim code has already been used")
    }
    const winner = results.find((r) => r.status === 200)!.body.ownerUserId === alice.id ? alice : bob
    const loser = winner === alice ? bob : alice
    const [row] = await env.query<{ owner: string }>(
      "SELECT owner_user_id::text AS owner FROM garments WHERE id = $1",
      [garment]
    )
    expect(row?.owner).toBe(winner.id)
    const claimedEvents = await env.query("SELECT 1 FROM ownership_events WHERE garment_id = $1 AND kind = 'claimed'", [
      garment
    ])
    expect(claimedEvents).toHaveLength(1)
    const published = await env.lastGarmentEvent()
    expect(published.event).toMatchObject({ garmentId: garment, change: "claimed" })
    // the scan path's one schema for the fact, with the generation the claim raised (to the version committed)
    const fact = Schema.decodeUnknownSync(GarmentUpdatedFact)(published.event)
    expect(fact.generation).toBe(fact.version)
    expect(fact.version).toBeGreaterThan(0)

    // transfer: offer → accept; a second accept conflicts
    const loserEmail = loser === alice ? "alice@example.com" : "bob@example.com"
    const offer = await env.call("POST", `/v1/garments/${garment}/transfers`, { toUserEmail: loserEmail }, winner.token)
    expect(offer.status).toBe(201)
    expect(offer.body.status).toBe("pending")
    const dup = await env.call("POST", `/v1/garments/${garment}/transfers`, { toUserEmail: loserEmail }, winner.token)
    expect(dup.status).toBe(409)
    const notOwner = await env.call(
      "POST",
      `/v1/garments/${garment}/transfers`,
      { toUserEmail: loser === alice ? "bob@example.com" : "alice@example.com" },
      loser.token
    )
    expect(notOwner.status).toBe(403)
    const accepted = await env.call("POST", `/v1/transfers/${offer.body.id}/accept`, undefined, loser.token)
    expect(accepted.status).toBe(200)
    expect(accepted.body.status).toBe("accepted")
    expect((await env.call("POST", `/v1/transfers/${offer.body.id}/accept`, undefined, loser.token)).status).toBe(409)
    const [after] = await env.query<{ owner: string; version: number }>(
      "SELECT owner_user_id::text AS owner, version FROM garments WHERE id = $1",
      [garment]
    )
    expect(after?.owner).toBe(loser.id)
    expect(after?.version).toBe(3)
    expect((await env.lastGarmentEvent()).event).toMatchObject({
      garmentId: garment,
      change: "transferred",
      version: 3
    })

    // the new owner offers it back and cancels
    const back = await env.call(
      "POST",
      `/v1/garments/${garment}/transfers`,
      { toUserEmail: loser === alice ? "bob@example.com" : "alice@example.com" },
      loser.token
    )
    expect(back.status).toBe(201)
    const cancelled = await env.call("POST", `/v1/transfers/${back.body.id}/cancel`, undefined, loser.token)
    expect(cancelled.body.status).toBe("cancelled")
    const kinds = await env.query<{ kind: string }>(
      "SELECT kind FROM ownership_events WHERE garment_id = $1 ORDER BY id",
      [garment]
    )
    expect(kinds.map((k) => k.kind)).toEqual([
      "claimed",
      "transfer_offered",
      "transfer_accepted",
      "transfer_offered",
      "transfer_cancelled"
    ])
    // a used code stays used
    expect((await env.call("POST", "/v1/claims", { code }, winner.token)).status).toBe(409)
  })

  it("exports everything held about the caller, then erases them by shredding their key", async () => {
    const carol = await register("carol@example.com", "Carol Export")
    const t = carol.token
    await env.call("POST", "/v1/devices", { name: "carol's phone" }, t)
    const garment = (await garmentIds()).find((g) => g.owner === null)!.id
    await env.query("UPDATE garments SET owner_user_id = $1 WHERE id = $2", [carol.id, garment])
    await env.query("INSERT INTO ownership_events (garment_id, kind, to_user_id) VALUES ($1, 'claimed', $2)", [
      garment,
      carol.id
    ])
    await env.query(
      "INSERT INTO consents (owner_user_id, garment_id, purpose, granted, policy_version) VALUES ($1, $2, 'public_profile', true, 'v1')",
      [carol.id, garment]
    )
    const scanId = "0b7f6c9e-1d2a-4c3b-9e8f-7a6b5c4d3e2f"
    await env.query(
      `INSERT INTO scan_events (id, garment_id, scanner_user_id, role, intent, region_code, decision, scanned_at)
       VALUES ($1, $2, $3, 'owner', 'owner_view', 'FR', '{"regime":"gdpr"}', now())`,
      [scanId, garment, carol.id]
    )
    await env.query(
      "INSERT INTO notifications (user_id, kind, payload, idempotency_key) VALUES ($1, 'scan', '{}', $2)",
      [carol.id, `n-${carol.id}`]
    )

    const exported = await env.call("GET", "/v1/me/export", undefined, t)
    expect(exported.status).toBe(200)
    const body = exported.body
    expect(body.profile).toMatchObject({ id: carol.id, email: "carol@example.com", displayName: "Carol Export" })
    expect(body.devices).toHaveLength(1)
    expect(body.sessions.length).toBeGreaterThanOrEqual(1)
    expect(body.consents).toHaveLength(1)
    expect(body.garments.map((g: { id: string }) => g.id)).toEqual([garment])
    expect(body.ownershipEvents).toHaveLength(1)
    expect(body.scanEvents.map((s: { id: string }) => s.id)).toEqual([scanId])
    expect(body.notifications).toHaveLength(1)

    const [before] = await env.query<{ email_sealed: Buffer }>("SELECT email_sealed FROM users WHERE id = $1", [
      carol.id
    ])
    const [keyBefore] = await env.query<{ key: Buffer }>("SELECT key FROM subject_keys WHERE subject_id = $1", [
      carol.id
    ])
    const other = await token("carol@example.com", "correct-horse-battery")

    const erased = await env.call("DELETE", "/v1/me", undefined, t)
    expect(erased.status).toBe(200)
    expect(erased.body.userId).toBe(carol.id)

    // every session of hers is dead, and she can no longer sign in
    expect((await env.call("GET", "/v1/me/export", undefined, t)).status).toBe(401)
    expect((await env.call("GET", "/v1/me/export", undefined, other)).status).toBe(401)
    expect((await login("carol@example.com", "correct-horse-battery")).status).toBe(401)

    // crypto-shredding: the key is gone, so the sealed email copied out before erasure cannot be opened
    const [keyAfter] = await env.query<{ key: Buffer | null; erased_at: Date | null }>(
      "SELECT key, erased_at FROM subject_keys WHERE subject_id = $1",
      [carol.id]
    )
    expect(keyAfter?.key).toBeNull()
    expect(keyAfter?.erased_at).not.toBeNull()
    const master = masterKeyBytes(Redacted.value(env.config.privacy.piiMasterKey))
    expect(open(unwrapSubjectKey(master, keyBefore!.key)!, before!.email_sealed)?.toString("utf8")).toBe(
      "carol@example.com"
    )
    const [user] = await env.query<Record<string, unknown>>(
      "SELECT email_sealed, display_name_sealed, password_hash, region_code, erased_at FROM users WHERE id = $1",
      [carol.id]
    )
    expect(user).toMatchObject({ email_sealed: null, display_name_sealed: null, password_hash: null })
    expect(user?.erased_at).not.toBeNull()
    const devices = await env.query("SELECT 1 FROM devices WHERE user_id = $1 AND revoked_at IS NULL", [carol.id])
    expect(devices).toHaveLength(0)
    // the scan stays (provenance record) and keeps the now-anonymous user id
    const scans = await env.query<{ scanner: string }>(
      "SELECT scanner_user_id::text AS scanner FROM scan_events WHERE id = $1",
      [scanId]
    )
    expect(scans).toEqual([{ scanner: carol.id }])
    // the address is free again: a new account is a new person
    const again = await env.call("POST", "/v1/users", {
      email: "carol@example.com",
      password: "another-long-password",
      displayName: "New Carol"
    })
    expect(again.status).toBe(202)
    const newCarol = await login("carol@example.com", "another-long-password")
    expect(newCarol.body.user.id).not.toBe(carol.id)
  })

  it("slows sign-in guessing from one address: 429 with Retry-After within 10 tries", async () => {
    const email = "target@example.com"
    const statuses: Array<number> = []
    let limited: Awaited<ReturnType<typeof login>> | undefined
    for (let i = 0; i < 10 && limited === undefined; i++) {
      const r = await login(email, `guess-${i}`)
      statuses.push(r.status)
      if (r.status === 429) limited = r
    }
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(LoginPolicy.backoffAfter)
    expect(limited?.status).toBe(429)
    expect(limited?.body.error).toBe("RateLimited")
    const retryAfter = Number(limited?.headers.get("retry-after"))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // another account from the same address is not affected by this account's backoff
    expect((await login(demo("auditor").email, demo("auditor").password)).status).toBe(200)
  })

  it("finding 10: self-registration answers the same for a new and a taken email", async () => {
    const body = (email: string) => ({ email, password: "correct-horse-battery", displayName: "Someone" })
    const fresh = await env.call("POST", "/v1/users", body("fresh-person@example.com"))
    const taken = await env.call("POST", "/v1/users", body(demo("owner").email))
    expect(fresh.status).toBe(202)
    expect(taken.status).toBe(fresh.status)
    expect(taken.body).toEqual(fresh.body)
    // the taken account kept its own password
    expect((await login(demo("owner").email, demo("owner").password)).status).toBe(200)
  })

  it("findings 7, 11: weak passwords are refused with a reason, and no error echoes the password", async () => {
    const tryPassword = (password: string) =>
      env.call("POST", "/v1/users", { email: "weak@example.com", password, displayName: "Weak" })
    const short = await tryPassword("aaaaaaaaa")
    expect(short.status).toBe(400)
    expect(short.body.message).toBe("password: must be a string at least 10 character(s) long")
    expect(JSON.stringify(short.body)).not.toContain("aaaaaaaaa")
    for (const weak of ["aaaaaaaaaa", "qwertyuiop", "password123", "1234567890", "Password2024!"]) {
      const r = await tryPassword(weak)
      expect(r.status, weak).toBe(400)
      expect(r.body.error).toBe("WeakPassword")
      expect(r.body.message).toMatch(/^password: /)
      expect(JSON.stringify(r.body)).not.toContain(weak)
    }
  })

  it("finding 10: a stranger offering someone else's garment gets the same answer for known and unknown emails", async () => {
    const owned = (await garmentIds()).find((g) => g.owner !== null)!
    const stranger = await register("stranger@example.com", "Stranger")
    const offer = (email: string) =>
      env.call("POST", `/v1/garments/${owned.id}/transfers`, { toUserEmail: email }, stranger.token)
    const known = await offer(demo("owner").email)
    const unknown = await offer("nobody-at-all@example.com")
    expect(known.status).toBe(403)
    expect(unknown.status).toBe(known.status)
    expect(unknown.body).toEqual(known.body)
  })

  it("finding 11: an unused claim code is void once its garment is claimed", async () => {
    const brand = demo("brand")
    const bt = await token(brand.email, brand.password)
    const garment = (await garmentIds()).filter((g) => g.owner === null).at(-1)!.id
    const first = await env.call("POST", `/v1/garments/${garment}/claim-codes`, {}, bt)
    const second = await env.call("POST", `/v1/garments/${garment}/claim-codes`, {}, bt)
    expect([first.status, second.status]).toEqual([201, 201])
    const dora = await register("dora@example.com", "Dora")
    expect((await env.call("POST", "/v1/claims", { code: first.body.code }, dora.token)).status).toBe(200)
    const [open] = await env.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM claim_codes WHERE garment_id = $1 AND claimed_at IS NULL AND expires_at > now()",
      [garment]
    )
    expect(open?.n).toBe("0")
    const late = await register("eve@example.com", "Eve")
    expect((await env.call("POST", "/v1/claims", { code: second.body.code }, late.token)).status).toBe(410)
  })

  it("only an admin creates non-owner accounts", async () => {
    const body = { email: "auditor2@example.com", password: "long-enough-pass", displayName: "A2", role: "auditor" }
    expect((await env.call("POST", "/v1/users", body)).status).toBe(403)
    const admin = await token(demo("admin").email, demo("admin").password)
    const created = await env.call("POST", "/v1/users", body, admin)
    expect(created.status).toBe(201)
    expect(created.body.role).toBe("auditor")
    expect((await env.call("POST", "/v1/users", body, admin)).status).toBe(409)
  })
})
