import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream"
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node"
import { Context, Duration, Effect, Layer, Option, Redacted, Ref, Runtime, Schedule, type Scope } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { currentTraceparent, withRemoteParent } from "../telemetry/TraceContext.js"
import { DependencyError, describeCause } from "./Errors.js"

/**
 * NATS JetStream: facts others may react to (`brandme.<domain>.<event>`), durable consumers,
 * headers carrying trace context. The connection is made in the background so a service whose
 * NATS is optional starts degraded and recovers when NATS comes back, without a restart.
 */
export interface NatsMessage {
  readonly subject: string
  readonly data: Uint8Array
  readonly headers: Readonly<Record<string, string>>
  readonly redelivered: boolean
  readonly seq: number
}

export interface ConsumeOptions<E, R> {
  readonly stream: string
  readonly durable: string
  readonly filterSubject?: string
  readonly handler: (msg: NatsMessage) => Effect.Effect<void, E, R>
}

export interface NatsService {
  readonly streamPrefix: string
  readonly ping: Effect.Effect<void, DependencyError>
  readonly ensureStream: (name: string, subjects: ReadonlyArray<string>) => Effect.Effect<void, DependencyError>
  readonly publish: (
    subject: string,
    data: Uint8Array | string,
    headers?: Readonly<Record<string, string>>
  ) => Effect.Effect<{ readonly seq: number }, DependencyError>
  /** Durable pull consumer: each message is acked when `handler` succeeds, nak'ed (redelivered) when it fails. */
  readonly consume: <E, R>(options: ConsumeOptions<E, R>) => Effect.Effect<void, DependencyError, R | Scope.Scope>
}

export class Nats extends Context.Tag("brandme/Nats")<Nats, NatsService>() {}

const fail = (operation: string) => (cause: unknown) =>
  new DependencyError({ dependency: "nats", operation, message: describeCause(cause) })

const encoder = new TextEncoder()

export const makeNatsLayer = (o: { readonly url: string; readonly streamPrefix: string; readonly name: string }) =>
  Layer.scoped(
    Nats,
    Effect.gen(function* () {
      const current = yield* Ref.make(Option.none<{ nc: NatsConnection; js: JetStreamClient }>())
      const parsed = new URL(o.url)
      const server = `${parsed.hostname}:${parsed.port || "4222"}`
      const user = parsed.username === "" ? undefined : decodeURIComponent(parsed.username)
      const pass = parsed.password === "" ? undefined : decodeURIComponent(parsed.password)
      const establish = Effect.tryPromise({
        try: () =>
          connect({
            servers: server,
            name: o.name,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 500,
            timeout: 2000,
            ...(user !== undefined ? { user } : {}),
            ...(pass !== undefined ? { pass } : {}),
            ...(parsed.protocol === "tls:" ? { tls: {} } : {})
          }),
        catch: fail("connect")
      }).pipe(
        Effect.tap((nc) => Ref.set(current, Option.some({ nc, js: jetstream(nc) }))),
        Effect.retry(Schedule.spaced(Duration.millis(500)))
      )
      const connecting = yield* Effect.forkScoped(establish)
      // give the first connection a moment so a healthy start is not reported degraded;
      // past that the service starts anyway and the background loop keeps trying
      yield* connecting.await.pipe(Effect.timeout(Duration.seconds(2)), Effect.ignore)
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(Ref.get(current), (c) =>
          Option.match(c, {
            onNone: () => Effect.void,
            onSome: ({ nc }) => Effect.promise(() => nc.drain().catch(() => nc.close()))
          })
        )
      )
      const conn = Effect.flatMap(Ref.get(current), (c) =>
        Option.match(c, {
          onNone: () =>
            Effect.fail(
              new DependencyError({ dependency: "nats", operation: "connect", message: `not connected to ${server}` })
            ),
          onSome: Effect.succeed
        })
      )
      const service: NatsService = {
        streamPrefix: o.streamPrefix,
        ping: Effect.flatMap(conn, ({ nc }) =>
          nc.isClosed()
            ? Effect.fail(new DependencyError({ dependency: "nats", operation: "ping", message: "connection closed" }))
            : Effect.tryPromise({ try: () => nc.flush(), catch: fail("ping") })
        ).pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(2),
            onTimeout: () => new DependencyError({ dependency: "nats", operation: "ping", message: "timed out" })
          })
        ),
        ensureStream: (name, subjects) =>
          Effect.flatMap(conn, ({ nc }) =>
            Effect.tryPromise({
              try: async () => {
                const jsm = await jetstreamManager(nc)
                try {
                  const info = await jsm.streams.info(name)
                  const missing = subjects.filter((s) => !info.config.subjects.includes(s))
                  if (missing.length > 0) {
                    await jsm.streams.update(name, { subjects: [...info.config.subjects, ...missing] })
                  }
                } catch {
                  await jsm.streams.add({ name, subjects: [...subjects] })
                }
              },
              catch: fail("ensureStream")
            })
          ),
        publish: (subject, data, hdrs) =>
          Effect.all([conn, currentTraceparent]).pipe(
            Effect.flatMap(([{ js }, traceparent]) =>
              Effect.tryPromise({
                try: async () => {
                  const h = natsHeaders()
                  if (traceparent._tag === "Some") h.set("traceparent", traceparent.value)
                  for (const [k, v] of Object.entries(hdrs ?? {})) h.set(k, v)
                  const ack = await js.publish(subject, typeof data === "string" ? encoder.encode(data) : data, {
                    headers: h
                  })
                  return { seq: ack.seq }
                },
                catch: fail("publish")
              })
            ),
            Effect.withSpan(`nats.publish ${subject}`, {
              kind: "producer",
              attributes: { "messaging.destination": subject }
            })
          ),
        consume: <E, R>({ stream, durable, filterSubject, handler }: ConsumeOptions<E, R>) =>
          Effect.gen(function* () {
            const { nc, js } = yield* conn
            const consumer = yield* Effect.tryPromise({
              try: async () => {
                const jsm = await jetstreamManager(nc)
                await jsm.consumers.add(stream, {
                  durable_name: durable,
                  ack_policy: AckPolicy.Explicit,
                  deliver_policy: DeliverPolicy.All,
                  ack_wait: 30_000_000_000,
                  ...(filterSubject !== undefined ? { filter_subject: filterSubject } : {})
                })
                return js.consumers.get(stream, durable)
              },
              catch: fail("consume")
            })
            const messages = yield* Effect.acquireRelease(
              Effect.tryPromise({ try: () => consumer.consume({ max_messages: 256 }), catch: fail("consume") }),
              (m) =>
                Effect.promise(() =>
                  m
                    .close()
                    .then(() => undefined)
                    .catch(() => undefined)
                )
            )
            const loop = Effect.tryPromise({
              try: async () => {
                for await (const m of messages) {
                  const hdrs: Record<string, string> = {}
                  if (m.headers !== undefined) for (const [k, v] of m.headers) hdrs[k] = v[0] ?? ""
                  const msg: NatsMessage = {
                    subject: m.subject,
                    data: m.data,
                    headers: hdrs,
                    redelivered: m.redelivered,
                    seq: m.seq
                  }
                  await runHandler(msg).then(
                    () => m.ackAck().then(() => undefined),
                    () => m.nak(1000)
                  )
                }
              },
              catch: fail("consume")
            })
            const runtime = yield* Effect.runtime<R>()
            const runHandler = (msg: NatsMessage) =>
              Runtime.runPromise(runtime)(
                withRemoteParent(`nats.consume ${msg.subject}`, msg.headers.traceparent, {
                  "messaging.destination": msg.subject,
                  "messaging.consumer": durable
                })(handler(msg))
              )
            yield* Effect.forkScoped(loop)
          })
      }
      return service
    })
  )

export const NatsLive = (name: string) =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (c) =>
      makeNatsLayer({ url: Redacted.value(c.nats.url), streamPrefix: c.nats.streamPrefix, name })
    )
  )

export const natsPayload = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))

/** Unit tests: an in-memory stream store; consumers get every message published on their subject. */
export const makeNatsTest = () => {
  const published: Array<NatsMessage> = []
  const handlers: Array<{ filter: string | undefined; run: (m: NatsMessage) => Promise<void> }> = []
  const matches = (filter: string | undefined, subject: string) =>
    filter === undefined ||
    filter === subject ||
    (filter.endsWith(">") && subject.startsWith(filter.slice(0, -1))) ||
    (filter.includes("*") &&
      filter.split(".").length === subject.split(".").length &&
      filter.split(".").every((part, i) => part === "*" || part === subject.split(".")[i]))
  const service: NatsService = {
    streamPrefix: "TEST",
    ping: Effect.void,
    ensureStream: () => Effect.void,
    publish: (subject, data, hdrs) =>
      Effect.promise(async () => {
        const msg: NatsMessage = {
          subject,
          data: typeof data === "string" ? encoder.encode(data) : data,
          headers: { ...(hdrs ?? {}) },
          redelivered: false,
          seq: published.length + 1
        }
        published.push(msg)
        for (const h of handlers) if (matches(h.filter, subject)) await h.run(msg)
        return { seq: msg.seq }
      }),
    consume: <E, R>({ filterSubject, handler }: ConsumeOptions<E, R>) =>
      Effect.gen(function* () {
        const runtime = yield* Effect.runtime<R>()
        handlers.push({
          filter: filterSubject,
          run: (m) => Runtime.runPromise(runtime)(Effect.either(handler(m))).then(() => undefined)
        })
      })
  }
  return { layer: Layer.succeed(Nats, service), published }
}
