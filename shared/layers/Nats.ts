import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream"
import { connect, createInbox, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node"
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

/** One message of a `publishBatch`. */
export interface OutgoingMessage {
  readonly subject: string
  readonly data: Uint8Array | string
  readonly headers?: Readonly<Record<string, string>>
}

/** The stream's acknowledgement of one published message (`duplicate`: dropped by `Nats-Msg-Id` dedupe). */
export interface PublishAck {
  readonly seq: number
  readonly duplicate: boolean
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
  /**
   * Publishes many messages to JetStream and waits for every stream ack together (one pipelined
   * burst instead of one round trip each). Fails as a whole if any message is not acked within
   * `timeoutMs` or the stream rejects one; a retry is safe when each message carries `Nats-Msg-Id`.
   * Acks come back in message order.
   */
  readonly publishBatch: (
    messages: ReadonlyArray<OutgoingMessage>,
    options?: { readonly timeoutMs?: number }
  ) => Effect.Effect<ReadonlyArray<PublishAck>, DependencyError>
  /** Durable pull consumer: each message is acked when `handler` succeeds, nak'ed (redelivered) when it fails. */
  readonly consume: <E, R>(options: ConsumeOptions<E, R>) => Effect.Effect<void, DependencyError, R | Scope.Scope>
}

export class Nats extends Context.Tag("brandme/Nats")<Nats, NatsService>() {}

const fail = (operation: string) => (cause: unknown) =>
  new DependencyError({ dependency: "nats", operation, message: describeCause(cause) })

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface AckWaiter {
  readonly resolve: (ack: PublishAck) => void
  readonly reject: (reason: string) => void
}

/**
 * Stream acks for `publishBatch`: one wildcard inbox subscription per connection; each message's reply
 * subject is `<inbox>.<n>`, so an ack finds its waiter by token. `js.publish` instead builds a request
 * (its own timer and promise chain) per message, which costs ~4× the CPU per message at high rates.
 */
const makeAckRouter = (nc: NatsConnection) => {
  const inbox = createInbox()
  const waiting = new Map<string, AckWaiter>()
  let next = 0
  const settle = (m: Msg) => {
    const token = m.subject.slice(inbox.length + 1)
    const w = waiting.get(token)
    if (w === undefined) return
    waiting.delete(token)
    // a status message (503: no stream captures the subject) has headers and no body
    if (m.headers?.hasError === true) return w.reject(`${m.headers.code} ${m.headers.description}`)
    try {
      const ack: unknown = JSON.parse(decoder.decode(m.data))
      if (typeof ack !== "object" || ack === null) return w.reject("invalid ack")
      if ("error" in ack) return w.reject(`stream rejected the message: ${JSON.stringify(ack.error)}`)
      const seq = "seq" in ack && typeof ack.seq === "number" ? ack.seq : -1
      if (seq < 0) return w.reject("invalid ack")
      w.resolve({ seq, duplicate: "duplicate" in ack && ack.duplicate === true })
    } catch {
      w.reject("invalid ack")
    }
  }
  nc.subscribe(`${inbox}.*`, { callback: (err, m) => (err === null ? settle(m) : undefined) })
  const publishBatch = (messages: ReadonlyArray<OutgoingMessage>, timeoutMs: number) =>
    new Promise<ReadonlyArray<PublishAck>>((resolve, reject) => {
      const acks = new Array<PublishAck>(messages.length)
      const tokens: Array<string> = []
      let open = messages.length
      let done = false
      const finish = (error: string | undefined) => {
        if (done) return
        done = true
        clearTimeout(timer)
        for (const t of tokens) waiting.delete(t)
        error === undefined ? resolve(acks) : reject(new Error(error))
      }
      const timer = setTimeout(
        () => finish(`${open} of ${messages.length} publishes not acked within ${timeoutMs} ms`),
        timeoutMs
      )
      if (open === 0) return finish(undefined)
      try {
        messages.forEach((msg, i) => {
          const token = String(next++)
          tokens.push(token)
          waiting.set(token, {
            resolve: (ack) => {
              acks[i] = ack
              if (--open === 0) finish(undefined)
            },
            reject: (reason) => finish(`${msg.subject}: ${reason}`)
          })
          const h = natsHeaders()
          for (const [k, v] of Object.entries(msg.headers ?? {})) h.set(k, v)
          const data = typeof msg.data === "string" ? encoder.encode(msg.data) : msg.data
          nc.publish(msg.subject, data, { headers: h, reply: `${inbox}.${token}` })
        })
      } catch (e) {
        finish(describeCause(e))
      }
    })
  return { publishBatch }
}

export const makeNatsLayer = (o: { readonly url: string; readonly streamPrefix: string; readonly name: string }) =>
  Layer.scoped(
    Nats,
    Effect.gen(function* () {
      const current = yield* Ref.make(
        Option.none<{ nc: NatsConnection; js: JetStreamClient; acks: ReturnType<typeof makeAckRouter> }>()
      )
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
        Effect.tap((nc) => Ref.set(current, Option.some({ nc, js: jetstream(nc), acks: makeAckRouter(nc) }))),
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
        publishBatch: (messages, options) =>
          Effect.flatMap(conn, ({ acks }) =>
            Effect.tryPromise({
              try: () => acks.publishBatch(messages, options?.timeoutMs ?? 10_000),
              catch: fail("publishBatch")
            })
          ).pipe(Effect.withSpan("nats.publishBatch", { kind: "producer", attributes: { batch: messages.length } })),
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
    publishBatch: (messages) =>
      Effect.forEach(messages, (m) =>
        Effect.map(service.publish(m.subject, m.data, m.headers), ({ seq }) => ({ seq, duplicate: false }))
      ),
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
