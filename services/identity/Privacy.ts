import { Effect, Option, Redacted } from "effect"
import { type Principal, sessionKey } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { masterKeyBytes, open, unwrapSubjectKey } from "../../shared/crypto/Pii.js"
import { Redis } from "../../shared/layers/Redis.js"
import { NotFound } from "./Errors.js"
import { PrivacyRepo } from "./PrivacyRepo.js"
import { IdentityRepo } from "./Repo.js"

/** The caller's right of access (export) and right to erasure. */
export class Privacy extends Effect.Service<Privacy>()("brandme/identity/Privacy", {
  effect: Effect.gen(function* () {
    const users = yield* IdentityRepo
    const repo = yield* PrivacyRepo
    const redis = yield* Redis
    const config = yield* AppConfig
    const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))

    const exportData = (p: Principal) =>
      Effect.gen(function* () {
        const user = yield* users.findUser(p.userId)
        if (Option.isNone(user) || user.value.erased_at !== null) {
          return yield* new NotFound({ message: "no personal data is held for this account (erased)" })
        }
        const wrapped = yield* users.wrappedSubjectKey(p.userId)
        const key = Option.flatMap(wrapped, (w) => Option.fromNullable(unwrapSubjectKey(master, w)))
        const reveal = (sealed: Uint8Array | null) =>
          sealed === null || Option.isNone(key)
            ? null
            : (Option.getOrNull(Option.map(Option.fromNullable(open(key.value, sealed)), (b) => b.toString("utf8"))) ??
              null)
        const u = user.value
        const records = yield* repo.records(p.userId)
        return {
          exportedAt: new Date(),
          profile: {
            id: u.id,
            email: reveal(u.email_sealed),
            displayName: reveal(u.display_name_sealed),
            role: u.role,
            brandId: u.brand_id,
            regionCode: u.region_code,
            createdAt: u.created_at
          },
          ...records
        }
      }).pipe(Effect.withSpan("Privacy.export"))

    const erase = (p: Principal) =>
      Effect.gen(function* () {
        const { sessionIds } = yield* repo.erase(p.userId)
        // every live token of this person stops working now, not when it expires
        yield* Effect.orDie(redis.del(...[...new Set([...sessionIds, p.sessionId])].map(sessionKey)))
        return { userId: p.userId, erasedAt: new Date() }
      }).pipe(Effect.withSpan("Privacy.erase"))

    return { exportData, erase } as const
  })
}) {}
