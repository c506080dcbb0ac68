import { createHash } from "node:crypto"
import { Effect, Option, Redacted } from "effect"
import {
  Forbidden,
  type Principal,
  SESSION_TTL_SECONDS,
  sessionKey,
  Tokens,
  Unauthorized
} from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { hashPassword, verifyPassword } from "../../shared/crypto/Password.js"
import { lookupHash, masterKeyBytes, newSubjectKey, seal, wrapSubjectKey } from "../../shared/crypto/Pii.js"
import { RateLimited, RateLimiter } from "../../shared/http/RateLimit.js"
import { Redis } from "../../shared/layers/Redis.js"
import { InvalidCredentials, InvalidRequest, NotFound, WeakPassword } from "./Errors.js"
import { passwordProblem } from "./PasswordPolicy.js"
import { IdentityRepo, type UserRole } from "./Repo.js"
import { newDeviceKey, parseDeviceKey, sameHash, secretHash } from "./Secrets.js"

/**
 * People, sessions and devices: console sign-in (scrypt, lockout, rate limits), sign-out,
 * registration, device API keys. Personal fields are sealed with the person's own key.
 */
export const LoginPolicy = {
  /** per IP + email: a password-guessing run against one account from one place */
  perIpEmail: { limit: 10, windowSeconds: 60 },
  /** per IP: spraying many accounts from one place */
  perIp: { limit: 100, windowSeconds: 60 },
  /**
   * Failures are counted per account AND address (never per account alone: a stranger who knows an
   * email must not be able to lock its owner out). After `backoffAfter` failures from one address, each
   * further attempt from it waits 2^(n − backoffAfter) seconds after the last failure, capped at
   * `maxBackoffSeconds`; the count is forgotten `maxBackoffSeconds` after the last failure.
   */
  backoffAfter: 3,
  maxBackoffSeconds: 15 * 60
} as const

/** Seconds an address must wait after its `failures`-th failed sign-in to one account. */
export const backoffSeconds = (failures: number): number =>
  failures < LoginPolicy.backoffAfter
    ? 0
    : Math.min(LoginPolicy.maxBackoffSeconds, 2 ** (failures - LoginPolicy.backoffAfter))

export const RegisterPolicy = { perIp: { limit: 20, windowSeconds: 3600 } } as const

export interface LoginResult {
  readonly token: string
  readonly expiresIn: number
  readonly sessionId: string
  readonly user: { readonly id: string; readonly role: UserRole; readonly brandId: string | null }
}

export interface DevicePrincipal {
  readonly deviceId: string
  readonly userId: string | null
  readonly brandId: string | null
  /** the rate-limit identity of the key (never the secret) */
  readonly keyPrefix: string
}

const failuresKey = (ip: string, emailHashHex: string) => `login:failures:${ipKey(ip)}:${emailHashHex}`
/** addresses are personal data: keys hold a hash of them */
const ipKey = (ip: string) => createHash("sha256").update(ip).digest("base64url").slice(0, 22)

/** The stored failure record: `<count>:<epoch ms of the last failure>`. */
const parseFailures = (v: string | null): { readonly count: number; readonly lastMs: number } => {
  const [count, last] = (v ?? "0:0").split(":")
  return { count: Number(count) || 0, lastMs: Number(last) || 0 }
}

export class Identity extends Effect.Service<Identity>()("brandme/identity/Identity", {
  effect: Effect.gen(function* () {
    const repo = yield* IdentityRepo
    const redis = yield* Redis
    const tokens = yield* Tokens
    const limiter = yield* RateLimiter
    const config = yield* AppConfig
    const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
    // Unknown emails are checked against this hash so they take as long as known ones.
    const dummyHash = yield* Effect.promise(() => hashPassword("brandme-no-such-user"))

    const recordFailure = (key: string, count: number) =>
      // get+set, not INCR: a racing burst may under-count by a few, which the per-IP+email limit bounds
      Effect.orDie(redis.set(key, `${count + 1}:${Date.now()}`, LoginPolicy.maxBackoffSeconds))

    const login = (input: { readonly email: string; readonly password: string; readonly ip: string }) =>
      Effect.gen(function* () {
        const emailHash = lookupHash(master, input.email)
        const hashHex = emailHash.toString("hex").slice(0, 32)
        yield* limiter.enforce([
          { name: "login", key: `${input.ip}:${hashHex}`, ...LoginPolicy.perIpEmail },
          { name: "ip", key: `login:${input.ip}`, ...LoginPolicy.perIp }
        ])
        const fKey = failuresKey(input.ip, hashHex)
        const failures = parseFailures(yield* Effect.orDie(redis.get(fKey)))
        const waitMs = failures.lastMs + backoffSeconds(failures.count) * 1000 - Date.now()
        if (waitMs > 0) {
          return yield* new RateLimited({
            message: "too many failed sign-ins from this address: wait before trying again",
            limit: "backoff",
            retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000))
          })
        }
        const user = yield* repo.findUserByEmailHash(emailHash)
        const stored = Option.flatMap(user, (u) =>
          u.erased_at === null ? Option.fromNullable(u.password_hash) : Option.none()
        )
        const ok = yield* Effect.promise(() =>
          verifyPassword(
            input.password,
            Option.getOrElse(stored, () => dummyHash)
          )
        )
        if (!ok || Option.isNone(stored) || Option.isNone(user)) {
          yield* recordFailure(fKey, failures.count)
          return yield* new InvalidCredentials({ message: "email or password is incorrect" })
        }
        yield* Effect.orDie(redis.del(fKey))
        const u = user.value
        const session = yield* repo.insertSession(u.id, SESSION_TTL_SECONDS)
        yield* Effect.orDie(redis.set(sessionKey(session.id), u.id, SESSION_TTL_SECONDS))
        const token = yield* tokens.issue(
          { userId: u.id, role: u.role, brandId: u.brand_id, sessionId: session.id },
          SESSION_TTL_SECONDS
        )
        const result: LoginResult = {
          token,
          expiresIn: SESSION_TTL_SECONDS,
          sessionId: session.id,
          user: { id: u.id, role: u.role, brandId: u.brand_id }
        }
        return result
      }).pipe(Effect.withSpan("Identity.login"))

    const logout = (p: Principal) =>
      Effect.gen(function* () {
        yield* Effect.orDie(redis.del(sessionKey(p.sessionId)))
        yield* repo.revokeSession(p.sessionId)
      }).pipe(Effect.withSpan("Identity.logout"))

    const register = (
      input: {
        readonly email: string
        readonly password: string
        readonly displayName: string
        readonly role: UserRole
        readonly brandId: string | null
        readonly regionCode: string | null
        readonly ip: string
      },
      actor: Option.Option<Principal>
    ) =>
      Effect.gen(function* () {
        if (input.role !== "owner" && !Option.exists(actor, (a) => a.role === "admin")) {
          return yield* new Forbidden({ message: `only an admin can create ${input.role} accounts` })
        }
        if (Option.isNone(actor)) {
          yield* limiter.enforce([{ name: "ip", key: `register:${input.ip}`, ...RegisterPolicy.perIp }])
        }
        if ((input.role === "brand") !== (input.brandId !== null)) {
          return yield* new InvalidRequest({ message: "brandId is required for brand accounts and only for them" })
        }
        if (input.brandId !== null && !(yield* repo.brandExists(input.brandId))) {
          return yield* new NotFound({ message: `no brand ${input.brandId}` })
        }
        const weak = passwordProblem(input.password, input.email)
        if (weak !== undefined) return yield* new WeakPassword({ message: `password: ${weak}` })
        const key = newSubjectKey()
        const passwordHash = yield* Effect.promise(() => hashPassword(input.password))
        const created = yield* repo.insertUser({
          emailHash: lookupHash(master, input.email),
          emailSealed: seal(key, input.email.trim()),
          displayNameSealed: seal(key, input.displayName),
          passwordHash,
          role: input.role,
          brandId: input.brandId,
          regionCode: input.regionCode,
          wrappedKey: wrapSubjectKey(master, key)
        })
        return { id: created.id, role: input.role, brandId: input.brandId }
      }).pipe(Effect.withSpan("Identity.register"))

    /** Brand staff create brand devices (they outlive any one employee); others personal ones. */
    const createDevice = (p: Principal, name: string) =>
      Effect.gen(function* () {
        const { key, prefix } = newDeviceKey()
        const brandDevice = p.role === "brand" && p.brandId !== null
        const row = yield* repo.insertDevice({
          userId: brandDevice ? null : p.userId,
          brandId: brandDevice ? p.brandId : null,
          name,
          prefix,
          hash: secretHash(key)
        })
        return { id: row.id, name: row.name, prefix, apiKey: key, brandId: row.brand_id, createdAt: row.created_at }
      }).pipe(Effect.withSpan("Identity.createDevice"))

    const revokeDevice = (p: Principal, deviceId: string) =>
      Effect.gen(function* () {
        const device = yield* repo.findDevice(deviceId)
        const mayRevoke = Option.exists(
          device,
          (d) => p.role === "admin" || d.user_id === p.userId || (d.brand_id !== null && d.brand_id === p.brandId)
        )
        // someone else's device answers like a missing one: ids are not confirmed to strangers
        if (!mayRevoke) return yield* new NotFound({ message: `no device ${deviceId}` })
        yield* repo.revokeDevice(deviceId)
      }).pipe(Effect.withSpan("Identity.revokeDevice"))

    const authenticateDevice = (apiKey: string) =>
      Effect.gen(function* () {
        const parsed = parseDeviceKey(apiKey)
        if (Option.isNone(parsed)) {
          return yield* new Unauthorized({ message: "device key is malformed (expected bm_<prefix>_<secret>)" })
        }
        const device = yield* repo.findDeviceByPrefix(parsed.value.prefix)
        if (Option.isNone(device) || !sameHash(device.value.api_key_hash, secretHash(apiKey.trim()))) {
          return yield* new Unauthorized({ message: "device key is not valid" })
        }
        if (device.value.revoked_at !== null) return yield* new Unauthorized({ message: "device key has been revoked" })
        yield* repo.touchDevice(device.value.id)
        const principal: DevicePrincipal = {
          deviceId: device.value.id,
          userId: device.value.user_id,
          brandId: device.value.brand_id,
          keyPrefix: parsed.value.prefix
        }
        return principal
      }).pipe(Effect.withSpan("Identity.authenticateDevice"))

    return { login, logout, register, createDevice, revokeDevice, authenticateDevice } as const
  })
}) {}

/** For the gateway: a device API key → the device (401 when unknown, wrong or revoked). */
export const authenticateDevice = (apiKey: string) => Effect.flatMap(Identity, (i) => i.authenticateDevice(apiKey))
