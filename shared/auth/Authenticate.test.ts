import { randomUUID } from "node:crypto"
import { Effect, Either, Layer } from "effect"
import * as jose from "jose"
import { describe, expect, it } from "vitest"
import { makeRedisTest, Redis } from "../layers/Redis.js"
import { authenticate } from "./Authenticate.js"
import { makeTokens, type Principal, SESSION_TTL_SECONDS, sessionKey, Tokens } from "./Tokens.js"

/** Finding 5 of the security review: the session check binds `sid` to `sub`; a token needs `exp`. */
const SECRET = "unit-test-secret-0123456789abcdef-0123456789"
const ISSUER = "brandme-identity"

const setup = async () => {
  const tokens = await makeTokens({ issuer: ISSUER, secret: SECRET, privateKeyPem: undefined, publicKeyPem: undefined })
  const redis = makeRedisTest()
  const layer = Layer.merge(Layer.succeed(Tokens, tokens), redis.layer)
  const signIn = (p: Principal) =>
    Effect.runPromise(
      Effect.gen(function* () {
        yield* (yield* Redis).set(sessionKey(p.sessionId), p.userId, SESSION_TTL_SECONDS)
        return yield* tokens.issue(p, 600)
      }).pipe(Effect.provide(layer))
    )
  const check = (token: string) =>
    Effect.runPromise(Effect.either(authenticate(`Bearer ${token}`)).pipe(Effect.provide(layer)))
  return { signIn, check }
}

const principal = (): Principal => ({ userId: randomUUID(), role: "owner", brandId: null, sessionId: randomUUID() })

describe("session binding and expiry (security review finding 5)", () => {
  it("a token whose sid names another user's live session is refused", async () => {
    const { signIn, check } = await setup()
    const victim = principal()
    await signIn(victim)
    const own = await signIn(principal())
    expect(Either.isRight(await check(own))).toBe(true)
    // same key, a token for user A carrying B's session id (a forged or mixed-up token)
    const tokens = await makeTokens({
      issuer: ISSUER,
      secret: SECRET,
      privateKeyPem: undefined,
      publicKeyPem: undefined
    })
    const mixed = await Effect.runPromise(tokens.issue({ ...principal(), sessionId: victim.sessionId }, 600))
    const r = await check(mixed)
    expect(Either.isLeft(r) && r.left.message).toMatch(/session has ended/)
  })

  it("a correctly signed token without exp is refused", async () => {
    const { signIn, check } = await setup()
    const p = principal()
    await signIn(p)
    const noExp = await new jose.SignJWT({ role: p.role, brand_id: null, sid: p.sessionId })
      .setProtectedHeader({ alg: "HS256", kid: "hs256" })
      .setSubject(p.userId)
      .setIssuer(ISSUER)
      .setAudience("brandme")
      .setIssuedAt()
      .sign(new TextEncoder().encode(SECRET))
    const r = await check(noExp)
    expect(Either.isLeft(r) && r.left.message).toBe('token claim "exp" is invalid')
  })
})
