import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { makeTokens, Tokens } from "../../shared/auth/Tokens.js"
import { AppConfig, appConfig } from "../../shared/config/AppConfig.js"
import { hashPassword } from "../../shared/crypto/Password.js"
import { makeRateLimiterTest } from "../../shared/http/RateLimit.js"
import { makeRedisTest } from "../../shared/layers/Redis.js"
import { authenticate } from "./Authenticate.js"
import { backoffSeconds, Identity } from "./Identity.js"
import { type DeviceRow, makeIdentityRepoTest, type UserRow } from "./Repo.js"
import { claimCodeHash, newClaimCode, newDeviceKey, parseDeviceKey, secretHash } from "./Secrets.js"

const config = Effect.runSync(appConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))
const USER_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
let passwordHash = ""
beforeAll(async () => {
  passwordHash = await hashPassword("the-right-password")
})

const user = (over: Partial<UserRow> = {}): UserRow => ({
  id: USER_ID,
  role: "owner",
  brand_id: null,
  password_hash: passwordHash,
  email_sealed: null,
  display_name_sealed: null,
  region_code: "FR",
  created_at: new Date(),
  erased_at: null,
  ...over
})

const setup = (o: { user?: UserRow; device?: DeviceRow } = {}) => {
  const revoked: Array<string> = []
  const redis = makeRedisTest()
  const repo = makeIdentityRepoTest({
    findUserByEmailHash: () => Effect.succeed(Option.fromNullable(o.user)),
    insertSession: () => Effect.succeed({ id: "5e55-10n" }),
    revokeSession: (id) => Effect.sync(() => void revoked.push(id)),
    findDeviceByPrefix: () => Effect.succeed(Option.fromNullable(o.device)),
    touchDevice: () => Effect.void
  })
  const tokens = Layer.effect(
    Tokens,
    Effect.promise(() =>
      makeTokens({
        issuer: config.auth.jwtIssuer,
        secret: Redacted.value(config.auth.jwtSecret),
        privateKeyPem: undefined,
        publicKeyPem: undefined
      })
    )
  )
  const deps = Layer.mergeAll(repo, redis.layer, tokens, makeRateLimiterTest().layer, AppConfig.layerWith(config))
  const layer = Identity.Default.pipe(Layer.provideMerge(deps))
  return { layer, revoked, store: redis.store }
}

describe("Identity sign-in on test layers", () => {
  it("issues a token whose session is live, and sign-out ends it at once", async () => {
    const { layer, revoked } = setup({ user: user() })
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const identity = yield* Identity
        const r = yield* identity.login({ email: "o@example.com", password: "the-right-password", ip: "1.1.1.1" })
        const p = yield* authenticate(`Bearer ${r.token}`)
        yield* identity.logout(p)
        const after = yield* Effect.either(authenticate(`Bearer ${r.token}`))
        return { r, p, after }
      }).pipe(Effect.provide(layer))
    )
    expect(out.p).toEqual({ userId: USER_ID, role: "owner", brandId: null, sessionId: "5e55-10n" })
    expect(out.r.expiresIn).toBe(86_400)
    expect(revoked).toEqual(["5e55-10n"])
    expect(Either.isLeft(out.after) && out.after.left.message).toMatch(/session has ended/)
  })

  it("answers wrong passwords, unknown and erased accounts the same way", async () => {
    const attempt = (u: UserRow | undefined, password: string) =>
      Effect.runPromise(
        Effect.flatMap(Identity, (i) =>
          Effect.either(i.login({ email: "o@example.com", password, ip: "2.2.2.2" }))
        ).pipe(Effect.provide(setup(u === undefined ? {} : { user: u }).layer))
      )
    const results = [
      await attempt(user(), "wrong-password"),
      await attempt(undefined, "the-right-password"),
      await attempt(user({ erased_at: new Date(), password_hash: null }), "the-right-password")
    ]
    for (const r of results) {
      expect(Either.isLeft(r) && r.left._tag).toBe("InvalidCredentials")
    }
  })

  it("finding 3: failures from one address back that address off; the owner signs in from elsewhere", async () => {
    const { layer } = setup({ user: user() })
    const out = await Effect.runPromise(
      Effect.gen(function* () {
        const identity = yield* Identity
        // 10 wrong passwords from one address (the review's attack)
        for (let i = 0; i < 10; i++) {
          yield* Effect.either(identity.login({ email: "o@example.com", password: `bad-${i}`, ip: "6.6.6.6" }))
        }
        const attacker = yield* Effect.either(
          identity.login({ email: "o@example.com", password: "the-right-password", ip: "6.6.6.6" })
        )
        const owner = yield* Effect.either(
          identity.login({ email: "o@example.com", password: "the-right-password", ip: "10.0.1.1" })
        )
        return { attacker, owner }
      }).pipe(Effect.provide(layer))
    )
    // the guessing address waits (sign-in stays protected) ...
    expect(Either.isLeft(out.attacker) && out.attacker.left._tag).toBe("RateLimited")
    // ... and the account is not locked for everyone
    expect(Either.isRight(out.owner)).toBe(true)
  }, 60_000)

  it("backs off exponentially after the first failures, capped", () => {
    expect([0, 1, 2, 3, 4, 5, 10, 20, 40].map(backoffSeconds)).toEqual([0, 0, 0, 1, 2, 4, 128, 900, 900])
  })
})

describe("device keys", () => {
  const device = (key: string, revokedAt: Date | null): DeviceRow => ({
    id: "d0d0d0d0-0000-4000-8000-000000000001",
    user_id: USER_ID,
    brand_id: null,
    name: "phone",
    api_key_prefix: parseDeviceKey(key).pipe(
      Option.map((p) => p.prefix),
      Option.getOrElse(() => "")
    ),
    api_key_hash: secretHash(key),
    created_at: new Date(),
    last_used_at: null,
    revoked_at: revokedAt
  })
  const check = (stored: DeviceRow, presented: string) =>
    Effect.runPromise(
      Effect.flatMap(Identity, (i) => Effect.either(i.authenticateDevice(presented))).pipe(
        Effect.provide(setup({ device: stored }).layer)
      )
    )

  it("accepts the key, refuses a wrong secret, a malformed key and a revoked device", async () => {
    const { key } = newDeviceKey()
    const ok = await check(device(key, null), key)
    expect(Either.isRight(ok) && ok.right.deviceId).toBe("d0d0d0d0-0000-4000-8000-000000000001")
    const wrong = await check(device(key, null), `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`)
    expect(Either.isLeft(wrong) && wrong.left.message).toBe("device key is not valid")
    const malformed = await check(device(key, null), "not-a-key")
    expect(Either.isLeft(malformed) && malformed.left.message).toMatch(/malformed/)
    const revoked = await check(device(key, new Date()), key)
    expect(Either.isLeft(revoked) && revoked.left.message).toBe("device key has been revoked")
  })
})

describe("claim codes", () => {
  it("are 80-bit codes that survive case, dashes and look-alike letters", () => {
    const code = newClaimCode()
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/)
    expect(claimCodeHash(code.toLowerCase().replace(/-/g, " "))).toEqual(claimCodeHash(code))
    expect(claimCodeHash("O1IL-0000-0000-0000")).toEqual(claimCodeHash("0111-0000-0000-0000"))
    expect(new Set(Array.from({ length: 200 }, newClaimCode)).size).toBe(200)
  })
})
