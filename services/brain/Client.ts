import { Context, Effect, Either, Layer } from "effect"
import type { Intent } from "../../shared/domain/Scan.js"
import { BrainInternalApi, type IntentNotAllowed, type IntentRequest } from "./Api.js"
import { Brain } from "./Brain.js"
import { makeBatchCaller } from "../../shared/http/Batch.js"
import type { UpstreamError } from "../../shared/http/Upstream.js"
import { Lru } from "../../shared/Lru.js"

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
}

export class BrainClient extends Context.Tag("brandme/BrainClient")<BrainClient, BrainCalls>() {
  /** direct call into the Brain service in this process */
  static readonly InProcess = Layer.effect(
    BrainClient,
    Effect.map(Brain, (brain) => ({ resolveIntent: (req) => brain.resolveIntent(req) }))
  ).pipe(Layer.provide(Brain.Default))

  /**
   * Over HTTP: the calls of one event-loop turn go in one request to `/internal/batch` (shared/http/Batch.ts),
   * each with the gateway's service token for brain and its own trace. Answers (an intent or IntentNotAllowed,
   * never a failed call) are kept INTENT_MEMO_TTL_MS per request: a cold scan makes one internal call fewer.
   */
  static readonly Http = (baseUrl: string) =>
    Layer.effect(
      BrainClient,
      Effect.gen(function* () {
        const batch = yield* makeBatchCaller(BrainInternalApi, { baseUrl, caller: "gateway", callee: "brain" })
        const memo = new Lru<string, Either.Either<Intent, IntentNotAllowed>>(256, INTENT_MEMO_TTL_MS)
        return {
          resolveIntent: (req) => {
            const key = intentKey(req)
            const known = memo.get(key)
            if (known !== undefined) return known
            return batch.call("resolveIntent", req).pipe(
              Effect.map((r) => r.intent),
              Effect.tapBoth({
                onSuccess: (intent) => Effect.sync(() => memo.set(key, Either.right(intent))),
                onFailure: (e) =>
                  Effect.sync(() => {
                    if (e._tag === "IntentNotAllowed") memo.set(key, Either.left(e))
                  })
              }),
              Effect.withSpan("BrainClient.resolveIntent", { captureStackTrace: false })
            )
          }
        } satisfies BrainCalls
      })
    )
}
