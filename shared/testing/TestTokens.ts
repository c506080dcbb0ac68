import { randomUUID } from "node:crypto"
import { Effect, Layer, Redacted } from "effect"
import { makeServiceTokens, ServiceTokenHeader } from "../auth/ServiceTokens.js"
import { type Principal, SESSION_TTL_SECONDS, sessionKey, Tokens, TokensLive } from "../auth/Tokens.js"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.js"
import { InfraLive } from "../layers/Infra.js"
import { Redis } from "../layers/Redis.js"
import type { ServiceName } from "../ServiceCatalog.js"

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

/** The service token `caller` sends to `callee` on the services started on `config` (same key, same minting). */
export const serviceToken = (config: AppConfigShape, caller: ServiceName, callee: ServiceName): Promise<string> =>
  Effect.runPromise(makeServiceTokens(Redacted.value(config.auth.serviceTokenKey)).mint(caller, callee))

/**
 * `fetch` as `caller` calls `callee`: every request carries the caller's service token (the services'
 * ports answer nothing else but probes), the request's own headers (a person's bearer token) beside it.
 */
export const fetchAs =
  (config: AppConfigShape, caller: ServiceName, callee: ServiceName) =>
  async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    headers.set(ServiceTokenHeader, await serviceToken(config, caller, callee))
    return fetch(url, { ...init, headers })
  }
