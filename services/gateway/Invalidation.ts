import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { Effect, Either, Redacted, Runtime } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { ConsentChangedFact, GarmentUpdatedFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"
import { factDecoder } from "../../shared/events/Facts.js"

export interface InvalidationHandlers {
  readonly owner: (ownerUserId: string) => void
  readonly garment: (garmentId: string) => void
}

const consentFact = factDecoder(ConsentChangedFact)
const garmentFact = factDecoder(GarmentUpdatedFact)

/**
 * Every process running the gateway subscribes to consent and garment facts with its own ephemeral
 * subscription (core NATS, not a shared durable: a durable would hand each fact to ONE replica) and
 * drops its in-process entries at once. Correctness does not hang on it: the cache keys carry the
 * Redis generations, read on every scan; this only frees memory and avoids a wasted lookup.
 */
export const subscribeInvalidations = (handlers: InvalidationHandlers) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const subjects = yield* ScanPathSubjects
    const url = new URL(Redacted.value(config.nats.url))
    const nc = yield* Effect.acquireRelease(
      Effect.tryPromise(() =>
        connect({
          servers: `${url.hostname}:${url.port || "4222"}`,
          name: "gateway-invalidation",
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          waitOnFirstConnect: true,
          ...(url.username !== "" ? { user: decodeURIComponent(url.username) } : {}),
          ...(url.password !== "" ? { pass: decodeURIComponent(url.password) } : {})
        })
      ),
      (c: NatsConnection) => Effect.promise(() => c.close().catch(() => undefined))
    )
    // a fact that is not its subject's schema is dropped with a warning naming the problem (`garmentId: is
    // missing`): nothing is lost by it (the generations in Redis already changed), but its publisher is broken
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const onFact =
      <A>(decode: (data: Uint8Array) => Either.Either<A, string>, handle: (fact: A) => void) =>
      (err: Error | null, msg: Msg) => {
        if (err !== null) return
        const fact = decode(msg.data)
        if (Either.isRight(fact)) return handle(fact.right)
        runFork(Effect.logWarning(`ignoring a malformed ${msg.subject} fact: ${fact.left}`))
      }
    nc.subscribe(subjects.consentChanged, { callback: onFact(consentFact, (f) => handlers.owner(f.ownerUserId)) })
    nc.subscribe(subjects.garmentUpdated, { callback: onFact(garmentFact, (f) => handlers.garment(f.garmentId)) })
    yield* Effect.tryPromise(() => nc.flush())
  })
