import { Context, Effect, Either, Layer, type Tracer } from "effect"
import type { Decision } from "../../shared/domain/Scan.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import { Lru } from "../../shared/Lru.js"
import {
  callUnderCurrentSpan,
  makePlainRunner,
  makePlainSpans,
  traceparentOf
} from "../../shared/telemetry/PlainSpans.js"
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
  /** the same call as a plain promise of its outcome (no fiber: the scan path), run under `parent` */
  readonly plain: {
    readonly decide: (
      req: DecisionRequest,
      parent: Tracer.AnySpan | undefined
    ) => Promise<Either.Either<Decision, UpstreamError>>
  }
}

export class PolicyClient extends Context.Tag("brandme/PolicyClient")<PolicyClient, PolicyCalls>() {
  static readonly InProcess = Layer.effect(
    PolicyClient,
    Effect.gen(function* () {
      const policy = yield* Policy
      const run = yield* makePlainRunner
      return {
        decide: (req) => policy.decide(req),
        plain: { decide: (req, parent) => run(policy.decide(req), parent) }
      } satisfies PolicyCalls
    })
  ).pipe(Layer.provide(Policy.Default))

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for policy and its own trace (a `PolicyClient.decide` span);
   * decisions about unowned garments are kept OWNERLESS_MEMO_TTL_MS.
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      PolicyClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(PolicyInternalApi, { baseUrl, caller: "gateway", callee: "policy" })
        const spans = yield* makePlainSpans
        const ownerless = new Lru<string, Decision>(1024, OWNERLESS_MEMO_TTL_MS)
        const decide = (req: DecisionRequest, parent: Tracer.AnySpan | undefined) => {
          const key = req.ownerUserId === null ? ownerlessKey(req) : undefined
          const known = key === undefined ? undefined : ownerless.get(key)
          if (known !== undefined) return Promise.resolve(Either.right(known))
          return spans.around("PolicyClient.decide", parent, (span) =>
            batch.call("decide", req, traceparentOf(span)).then((r) => {
              if (key !== undefined && Either.isRight(r)) ownerless.set(key, r.right)
              return r
            })
          )
        }
        return {
          decide: (req) => callUnderCurrentSpan((parent) => decide(req, parent)),
          plain: { decide }
        } satisfies PolicyCalls
      })
    )
}
