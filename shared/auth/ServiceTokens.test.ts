import { Effect, Either } from "effect"
import * as jose from "jose"
import { describe, expect, it } from "vitest"
import { makeServiceTokens, SERVICE_TOKEN_TTL_SECONDS, signServiceToken } from "./ServiceTokens.js"

const KEY = "service-tokens-unit-test-key-0123456789abcdef"
const now = () => Math.floor(Date.now() / 1000)
const refusal = <A, E>(e: Effect.Effect<A, E>) => Either.getLeft(Effect.runSync(Effect.either(e)))
const refusedAsync = async <A, E>(e: Effect.Effect<A, E>) => Either.getLeft(await Effect.runPromise(Effect.either(e)))

describe("service tokens: mint", () => {
  it("signs HS256 with sub = caller, aud = callee, a 60 s life", async () => {
    const tokens = makeServiceTokens(KEY)
    const token = await Effect.runPromise(tokens.mint("gateway", "knowledge"))
    expect(jose.decodeProtectedHeader(token).alg).toBe("HS256")
    const claims = jose.decodeJwt(token)
    expect([claims.sub, claims.aud, claims.iss]).toEqual(["gateway", "knowledge", "brandme-services"])
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(SERVICE_TOKEN_TTL_SECONDS)
  })

  it("reuses one token per caller and callee (the scan path signs once a minute, not per request)", async () => {
    const tokens = makeServiceTokens(KEY)
    const a = await Effect.runPromise(tokens.mint("gateway", "brain"))
    const b = await Effect.runPromise(tokens.mint("gateway", "brain"))
    const c = await Effect.runPromise(tokens.mint("gateway", "policy"))
    expect(b).toBe(a)
    expect(c).not.toBe(a)
    // the cached path is synchronous: no signing, no promise
    expect(Effect.runSync(tokens.mint("gateway", "brain"))).toBe(a)
  })
})

describe("service tokens: verify", () => {
  const tokens = makeServiceTokens(KEY)
  const mint = (caller: string, callee: string, issuedAt = now(), ttlSeconds = 60, key = KEY) =>
    signServiceToken(key, { caller, callee, issuedAt, ttlSeconds })

  it("admits a declared caller for its own audience", async () => {
    expect(await Effect.runPromise(tokens.verify(await mint("gateway", "knowledge"), "knowledge"))).toBe("gateway")
    expect(await Effect.runPromise(tokens.verify(await mint("console", "compliance"), "compliance"))).toBe("console")
  })

  it("no token → 401 naming the header", () => {
    const r = refusal(tokens.verify(undefined, "knowledge"))
    expect(r._tag === "Some" && r.value.status).toBe(401)
    expect(r._tag === "Some" && r.value.message).toContain("x-service-token")
  })

  it("a service that is not a declared caller → 403", async () => {
    const r = await refusedAsync(tokens.verify(await mint("brain", "knowledge"), "knowledge"))
    expect(r._tag === "Some" && r.value).toEqual({
      status: 403,
      error: "Forbidden",
      message: "brain is not a caller of knowledge (its callers: gateway)"
    })
  })

  it("a token for another audience → 403", async () => {
    const r = await refusedAsync(tokens.verify(await mint("gateway", "brain"), "knowledge"))
    expect(r._tag === "Some" && r.value).toEqual({
      status: 403,
      error: "Forbidden",
      message: "the service token is for brain, not knowledge"
    })
  })

  it("expired → 401; signed with another key → 401; not a service, or too long-lived → 401", async () => {
    const expired = await refusedAsync(tokens.verify(await mint("gateway", "knowledge", now() - 120), "knowledge"))
    expect(expired._tag === "Some" && [expired.value.status, expired.value.message]).toEqual([
      401,
      "the service token has expired"
    ])
    const forged = await refusedAsync(
      tokens.verify(await mint("gateway", "knowledge", now(), 60, "another-key-0123456789abcdef"), "knowledge")
    )
    expect(forged._tag === "Some" && [forged.value.status, forged.value.message]).toEqual([
      401,
      "the service token's signature is invalid"
    ])
    const stranger = await refusedAsync(tokens.verify(await mint("mallory", "knowledge"), "knowledge"))
    expect(stranger._tag === "Some" && stranger.value.status).toBe(401)
    const longLived = await refusedAsync(tokens.verify(await mint("gateway", "knowledge", now(), 3600), "knowledge"))
    expect(longLived._tag === "Some" && [longLived.value.status, longLived.value.message]).toEqual([
      401,
      "the service token must live at most 60 s"
    ])
    const garbage = await refusedAsync(tokens.verify("not.a.jwt", "knowledge"))
    expect(garbage._tag === "Some" && garbage.value.status).toBe(401)
  })

  it("a user's access token is not a service token", async () => {
    const userToken = await new jose.SignJWT({ role: "admin", sid: "s" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("gateway")
      .setAudience("knowledge")
      .setIssuer("brandme-identity")
      .setIssuedAt()
      .setExpirationTime("60s")
      .sign(new TextEncoder().encode(KEY))
    const r = await refusedAsync(tokens.verify(userToken, "knowledge"))
    expect(r._tag === "Some" && r.value.status).toBe(401)
  })

  it("remembers a verified token: the second check of the same string is synchronous", async () => {
    const t = await mint("gateway", "policy")
    expect(await Effect.runPromise(tokens.verify(t, "policy"))).toBe("gateway")
    expect(Effect.runSync(tokens.verify(t, "policy"))).toBe("gateway")
    // the cache is by token, the audience and caller checks are not skipped
    const r = refusal(tokens.verify(t, "knowledge"))
    expect(r._tag === "Some" && r.value.status).toBe(403)
  })
})
