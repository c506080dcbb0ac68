import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Effect, Redacted } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { ScanPathSubjects } from "../../shared/events/ScanPathSubjects.js"

export interface InvalidationHandlers {
  readonly owner: (ownerUserId: string) => void
  readonly garment: (garmentId: string) => void
}

const decoder = new TextDecoder()
const field = (data: Uint8Array, name: string): string | undefined => {
  try {
    const v: unknown = JSON.parse(decoder.decode(data))
    if (typeof v === "object" && v !== null && name in v) {
      const f: unknown = Reflect.get(v, name)
      return typeof f === "string" ? f : undefined
    }
  } catch {
    return undefined
  }
  return undefined
}

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
    nc.subscribe(subjects.consentChanged, {
      callback: (err, msg) => {
        const owner = err === null ? field(msg.data, "ownerUserId") : undefined
        if (owner !== undefined) handlers.owner(owner)
      }
    })
    nc.subscribe(subjects.garmentUpdated, {
      callback: (err, msg) => {
        const garment = err === null ? field(msg.data, "garmentId") : undefined
        if (garment !== undefined) handlers.garment(garment)
      }
    })
    yield* Effect.tryPromise(() => nc.flush())
  })
