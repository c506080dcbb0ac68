import { randomUUID } from "node:crypto"
import { Effect, Layer } from "effect"
import { type Principal, SESSION_TTL_SECONDS, sessionKey, Tokens, TokensLive } from "../auth/Tokens.js"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.js"
import { InfraLive } from "../layers/Infra.js"
import { Redis } from "../layers/Redis.js"

/**
 * A Bearer token for a fresh principal of `role`, with its live session in Redis — what a signed-in caller
 * of the services started on `config` presents (identity issues the same tokens at sign-in).
 */
export const issueTestToken = (config: AppConfigShape, role: Principal["role"]): Promise<string> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const p: Principal = { userId: randomUUID(), role, brandId: null, sessionId: randomUUID() }
      yield* (yield* Redis).set(sessionKey(p.sessionId), p.userId, SESSION_TTL_SECONDS)
      return yield* (yield* Tokens).issue(p, 600)
    }).pipe(
      Effect.provide(Layer.mergeAll(TokensLive, InfraLive("test-tokens"))),
      Effect.provide(Layer.succeed(AppConfig, config)),
      Effect.scoped
    )
  )
