import { Context, Effect, Either, Layer, type Tracer } from "effect"
import type { Intent } from "../../shared/domain/Scan.js"
import { BrainInternalApi, type IntentNotAllowed, type IntentRequest } from "./Api.js"
import { Brain } from "./Brain.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import { Lru } from "../../shared/Lru.js"
import {
  callUnderCurrentSpan,
  makePlainRunner,
  makePlainSpans,
  traceparentOf
} from "../../shared/telemetry/PlainSpans.js"

/**
 * How long the HTTP client keeps brain's answer to one (role, relation, hint). Brain's rules are a pure function
 * of the request (Rules.ts, no state, no data), so a repeated question needs no call; the bound is for a new
 * brain version rolled out meanwhile, the same minute the gateway keeps whole answers (its hot answer cache).
 */
export const INTENT_MEMO_TTL_MS = 60_000
const intentKey = (req: IntentRequest) => `${req.role}|${req.relation}|${req.hint ?? ""}`

/** What the gateway needs from brain; the same interface in-process and over HTTP. */
export interface BrainCalls {
  readonly resolveIntent: (req: IntentRequest) => Effect.Effect<Intent, IntentNotAllowed | UpstreamError>
  /** the same call as a plain promise of its outcome (no fiber: the scan path), run under `parent` */
  readonly plain: {
    readonly resolveIntent: (
      req: IntentRequest,
      parent: Tracer.AnySpan | undefined
    ) => Promise<Either.Either<Intent, IntentNotAllowed | UpstreamError>>
  }
}

export class BrainClient extends Context.Tag("brandme/BrainClient")<BrainClient, BrainCalls>() {
  /** direct call into the Brain service in this process */
  static readonly InProcess = Layer.effect(
    BrainClient,
    Effect.gen(function* () {
      const brain = yield* Brain
      const run = yield* makePlainRunner
      return {
        resolveIntent: (req) => brain.resolveIntent(req),
        plain: { resolveIntent: (req, parent) => run(brain.resolveIntent(req), parent) }
      } satisfies BrainCalls
    })
  ).pipe(Layer.provide(Brain.Default))

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for brain and its own trace (a `BrainClient.resolveIntent` span).
   * Answers (an intent or IntentNotAllowed, never a failed call) are kept INTENT_MEMO_TTL_MS per request: a
   * cold scan makes one internal call fewer.
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      BrainClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(BrainInternalApi, { baseUrl, caller: "gateway", callee: "brain" })
        const spans = yield* makePlainSpans
        const memo = new Lru<string, Either.Either<Intent, IntentNotAllowed>>(256, INTENT_MEMO_TTL_MS)
        const resolveIntent = (req: IntentRequest, parent: Tracer.AnySpan | undefined) => {
          const key = intentKey(req)
          const known = memo.get(key)
          if (known !== undefined) return Promise.resolve(known)
          return spans.around("BrainClient.resolveIntent", parent, (span) =>
            batch.call("resolveIntent", req, traceparentOf(span)).then((r) => {
              const out = Either.map(r, (a) => a.intent)
              if (Either.isRight(out)) memo.set(key, Either.right(out.right))
              else if (out.left._tag === "IntentNotAllowed") memo.set(key, Either.left(out.left))
              return out
            })
          )
        }
        return {
          resolveIntent: (req) => callUnderCurrentSpan((parent) => resolveIntent(req, parent)),
          plain: { resolveIntent }
        } satisfies BrainCalls
      })
    )
}
