import { Context, Effect, Layer } from "effect"
import type { Decision } from "../../shared/domain/Scan.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import { Lru } from "../../shared/Lru.js"
import { type DecisionRequest, PolicyInternalApi } from "./Api.js"
import { Policy } from "./Policy.js"

/**
 * How long the HTTP client keeps policy's decision about a garment nobody owns, per (role, relation, intent,
 * scanner region, claimed region). Without an owner there are no consents and no jurisdiction to read: the
 * decision is a function of those five and the rules' version (Policy.ts, the "bypass" branch) — the same for
 * every unowned garment. The bound is for a new rules version rolled out meanwhile, the minute the gateway
 * keeps whole answers. A decision about an owned garment is never kept here (policy caches it under the
 * owner's generation, which a consent change bumps).
 */
export const OWNERLESS_MEMO_TTL_MS = 60_000
const ownerlessKey = (r: DecisionRequest) =>
  `${r.role}|${r.relation}|${r.intent}|${r.scannerRegion ?? "?"}|${r.claimedRegion ?? "-"}`

/** What the gateway needs from policy; the same interface in-process and over HTTP. */
export interface PolicyCalls {
  readonly decide: (req: DecisionRequest) => Effect.Effect<Decision, UpstreamError>
}

export class PolicyClient extends Context.Tag("brandme/PolicyClient")<PolicyClient, PolicyCalls>() {
  static readonly InProcess = Layer.effect(
    PolicyClient,
    Effect.map(Policy, (policy) => ({ decide: (req) => policy.decide(req) }))
  ).pipe(Layer.provide(Policy.Default))

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for policy and its own trace; decisions about unowned garments are
   * kept OWNERLESS_MEMO_TTL_MS.
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      PolicyClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(PolicyInternalApi, { baseUrl, caller: "gateway", callee: "policy" })
        const ownerless = new Lru<string, Decision>(1024, OWNERLESS_MEMO_TTL_MS)
        return {
          decide: (req) => {
            const key = req.ownerUserId === null ? ownerlessKey(req) : undefined
            const known = key === undefined ? undefined : ownerless.get(key)
            if (known !== undefined) return Effect.succeed(known)
            return batch.call("decide", req).pipe(
              Effect.tap((decision) => Effect.sync(() => key !== undefined && ownerless.set(key, decision))),
              Effect.withSpan("PolicyClient.decide", { captureStackTrace: false })
            )
          }
        } satisfies PolicyCalls
      })
    )
}
