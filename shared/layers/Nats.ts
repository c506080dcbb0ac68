import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream"
import { connect, createInbox, headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/transport-node"
import { Duration, Effect, Layer, Option, Redacted, Ref, Runtime, Schedule, type Scope } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { currentTraceparent, withRemoteParent } from "../telemetry/TraceContext.js"
import { settledWithin } from "../runtime/Settled.js"
import { DependencyError, describeCause } from "./Errors.js"
import { Nats } from "./Systems.js"

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

export { Nats }

const fail = (operation: string) => (cause: unknown) =>
  new DependencyError({ dependency: "nats", operation, message: describeCause(cause) })

const encoder = new TextEncoder()
const decoder = new TextDecoder()

interface PendingBatch {
  readonly acks: Array<PublishAck | undefined>
  readonly subjects: ReadonlyArray<string>
  open: number
  readonly finish: (error: string | undefined) => void
}

/**
 * Stream acks for `publishBatch`: one wildcard inbox subscription per connection; message i of batch b
 * has the reply subject `<inbox>.<b>.<i>`, so an ack finds its slot without a promise or timer per
 * message (`js.publish` makes a request with both for every message: ~4× the CPU at high rates).
 */
const makeAckRouter = (nc: NatsConnection) => {
  const inbox = createInbox()
  const batches = new Map<string, PendingBatch>()
  let nextBatch = 0
  const settle = (m: Msg) => {
    const rest = m.subject.slice(inbox.length + 1)
    const dot = rest.indexOf(".")
    const batch = batches.get(rest.slice(0, dot))
    const i = Number(rest.slice(dot + 1))
    if (batch === undefined || !(i >= 0 && i < batch.acks.length) || batch.acks[i] !== undefined) return
    const fail = (reason: string) => batch.finish(`${batch.subjects[i]}: ${reason}`)
    // a status message (503: no stream captures the subject) has headers and no body
    if (m.headers?.hasError === true) return fail(`${m.headers.code} ${m.headers.description}`)
    try {
      const ack: unknown = JSON.parse(decoder.decode(m.data))
      if (typeof ack !== "object" || ack === null) return fail("invalid ack")
      if ("error" in ack) return fail(`stream rejected the message: ${JSON.stringify(ack.error)}`)
      if (!("seq" in ack) || typeof ack.seq !== "number") return fail("invalid ack")
      batch.acks[i] = { seq: ack.seq, duplicate: "duplicate" in ack && ack.duplicate === true }
      if (--batch.open === 0) batch.finish(undefined)
    } catch {
      fail("invalid ack")
    }
  }
  nc.subscribe(`${inbox}.>`, { callback: (err, m) => (err === null ? settle(m) : undefined) })
  const publishBatch = (messages: ReadonlyArray<OutgoingMessage>, timeoutMs: number) =>
    new Promise<ReadonlyArray<PublishAck>>((resolve, reject) => {
      if (messages.length === 0) return resolve([])
      const id = String(nextBatch++)
      let done = false
      const batch: PendingBatch = {
        acks: new Array<PublishAck | undefined>(messages.length).fill(undefined),
        subjects: messages.map((m) => m.subject),
        open: messages.length,
        finish: (error) => {
          if (done) return
          done = true
          clearTimeout(timer)
          batches.delete(id)
          error === undefined
            ? resolve(batch.acks.map((a) => a ?? { seq: -1, duplicate: false }))
            : reject(new Error(error))
        }
      }
      const timer = setTimeout(
        () => batch.finish(`${batch.open} of ${messages.length} publishes not acked within ${timeoutMs} ms`),
        timeoutMs
      )
      batches.set(id, batch)
      const prefix = `${inbox}.${id}.`
      try {
        messages.forEach((msg, i) => {
          const h = natsHeaders()
          // append, not set: a fresh header set has nothing to replace (set scans for the key twice)
          if (msg.headers !== undefined) for (const k in msg.headers) h.append(k, msg.headers[k] ?? "")
          const data = typeof msg.data === "string" ? encoder.encode(msg.data) : msg.data
          nc.publish(msg.subject, data, { headers: h, reply: prefix + i })
        })
      } catch (e) {
        batch.finish(describeCause(e))
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
      // a drain waits for every subscription's pending work; a pull left open must not hold SIGTERM past the grace
      // period: after 5 s the connection is closed without waiting further
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(Ref.get(current), (c) =>
          Option.match(c, {
            onNone: () => Effect.void,
            onSome: ({ nc }) =>
              Effect.promise(async () => {
                const drained = await settledWithin(
                  nc.drain().catch(() => nc.close()),
                  5_000
                )
                if (!drained) void nc.close().catch(() => undefined)
              })
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
              // close() waits for the open pull to expire (up to 30 s): stop waiting after 2 s, the drain ends it
              (m) => Effect.promise(() => settledWithin(m.close(), 2_000))
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
