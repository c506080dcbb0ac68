import { Effect, Option, Tracer } from "effect"

/**
 * W3C trace context across every hop: HTTP headers (done by @effect/platform), job options
 * (`opts.telemetry.metadata`, BullMQ's own slot for it) and NATS message headers.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export interface RemoteParent {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}

export const parseTraceparent = (value: string | undefined): Option.Option<RemoteParent> => {
  if (value === undefined) return Option.none()
  const m = TRACEPARENT.exec(value.trim())
  if (m === null || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return Option.none()
  return Option.some({ traceId: m[1]!, spanId: m[2]!, sampled: (Number.parseInt(m[3]!, 16) & 1) === 1 })
}

export const formatTraceparent = (span: {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean
}) => `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** The current span as a `traceparent` value, if there is one. */
export const currentTraceparent: Effect.Effect<Option.Option<string>> = Effect.map(
  Effect.option(Effect.currentSpan),
  (o) => Option.map(o, formatTraceparent)
)

/** Runs `effect` in a span whose parent is the remote one named by `traceparent` (or a new root). */
export const withRemoteParent =
  (name: string, traceparent: string | undefined, attributes?: Record<string, unknown>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Option.match(parseTraceparent(traceparent), {
      onNone: () => Effect.withSpan(effect, name, { kind: "consumer", ...(attributes ? { attributes } : {}) }),
      onSome: (p) =>
        Effect.withSpan(effect, name, {
          kind: "consumer",
          parent: Tracer.externalSpan({ traceId: p.traceId, spanId: p.spanId, sampled: p.sampled }),
          ...(attributes ? { attributes } : {})
        })
    })
