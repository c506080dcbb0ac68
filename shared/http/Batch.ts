import type { IncomingMessage, ServerResponse } from "node:http"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Cause, Duration, Effect, Either, Exit, Layer, Option, type ParseResult, Runtime, Schema, Tracer } from "effect"
import { request } from "undici"
import { ServiceTokenHeader, ServiceTokens } from "../auth/ServiceTokens.js"
import { requiresServiceToken, type ServiceName } from "../ServiceCatalog.js"
import { Metrics } from "../telemetry/Metrics.js"
import { makePlainSpans, type PlainSpans } from "../telemetry/PlainSpans.js"
import { parseTraceparent } from "../telemetry/TraceContext.js"
import { encoderOf } from "../PlainJson.js"
import { makeWindowBatcher } from "../TurnBatcher.js"
import { UpstreamError } from "./Upstream.js"
import type { ErrorBody } from "./Errors.js"
import { headerValue, makeFrontLane } from "./Lane.js"
import { HttpFrontLane } from "./Server.js"
import { parseErrorBody } from "./Validation.js"

/**
 * Internal calls, batched per event-loop turn (docs/scan-bench.md, "Internal calls").
 *
 * A service's internal group (its `Api.ts`) declares each operation with its payload, success and errors, as
 * before; `batchGroup` adds one endpoint beside it, `POST /internal/batch`, that carries many calls of that
 * group at once: `{ calls: [{ op, payload, traceparent? }] }` → `{ results: [{ ok: true, value } | { ok: false,
 * error }] }`, in order. Each call is decoded, run and encoded with its own operation's schemas — the contract
 * is the group's, the batch only carries it — so a bad call gets its own readable error and the others run.
 * An operation may also offer a bulk form (`BulkOperations`): the batch's calls of it then run at once — same
 * answers, a span each — instead of a fiber and its own round trips per call (knowledge's resolve and view).
 *
 * The caller (`makeBatchCaller`) collects the calls made in one event-loop turn and sends them as one request,
 * with at most MAX_BATCHES_IN_FLIGHT requests out to one service: calls made while that many are out wait for
 * one to come back and go together. Under load dozens of scans share one HTTP round trip (its parsing,
 * routing, service-token check and metrics), which otherwise cost more CPU than the work they carry; sent
 * every turn, a cold round's batches carried 1.2–1.6 calls each (docs/scan-bench.md). A lone call goes alone,
 * as soon as the turn ends, with no timer to wait on. Each call keeps its own trace: its traceparent rides in
 * the call and the callee runs it in a span under it, so one scan is still one trace. Each call's wait for the
 * window and its batch's round trip are timed in the caller's `brandme_internal_call_duration_seconds`.
 */

/** the most calls one batch request carries (the caller splits larger turns) */
export const MAX_BATCH_CALLS = 128
/** a batch that gets no answer in this time fails its calls with UpstreamError */
export const BATCH_TIMEOUT = Duration.seconds(10)
/** a caller's batches out to one service at once; calls made meanwhile wait and go together (makeWindowBatcher) */
export const MAX_BATCHES_IN_FLIGHT = 2

export const BatchCall = Schema.Struct({
  op: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)),
  payload: Schema.Unknown,
  traceparent: Schema.optional(Schema.String.pipe(Schema.maxLength(128)))
})
export const BatchRequest = Schema.Struct({
  calls: Schema.Array(BatchCall).pipe(Schema.minItems(1), Schema.maxItems(MAX_BATCH_CALLS))
})
export type BatchRequest = typeof BatchRequest.Type
export const BatchOutcome = Schema.Union(
  Schema.Struct({ ok: Schema.Literal(true), value: Schema.Unknown }),
  Schema.Struct({ ok: Schema.Literal(false), error: Schema.Unknown })
)
export type BatchOutcome = typeof BatchOutcome.Type
export const BatchResponse = Schema.Struct({ results: Schema.Array(BatchOutcome) })
export type BatchResponse = typeof BatchResponse.Type

/** The batch endpoint of one internal group (mounted beside it, on the same service-token-guarded port). */
export const batchGroup = (of: string) =>
  HttpApiGroup.make("internalBatch")
    .add(HttpApiEndpoint.post("batch", "/internal/batch").setPayload(BatchRequest).addSuccess(BatchResponse))
    .annotate(
      OpenApi.Description,
      `many internal calls (${of}) in one request, each decoded, run and answered by its own operation's contract, in order`
    )

type Endpoints<G extends HttpApiGroup.HttpApiGroup.Any> = HttpApiGroup.HttpApiGroup.Endpoints<G>
/** the operation names of a group */
export type OpName<G extends HttpApiGroup.HttpApiGroup.Any> = HttpApiEndpoint.HttpApiEndpoint.Name<Endpoints<G>>
type EndpointOf<G extends HttpApiGroup.HttpApiGroup.Any, N extends string> = HttpApiEndpoint.HttpApiEndpoint.WithName<
  Endpoints<G>,
  N
>
export type PayloadOf<
  G extends HttpApiGroup.HttpApiGroup.Any,
  N extends string
> = HttpApiEndpoint.HttpApiEndpoint.Payload<EndpointOf<G, N>>
export type SuccessOf<
  G extends HttpApiGroup.HttpApiGroup.Any,
  N extends string
> = HttpApiEndpoint.HttpApiEndpoint.Success<EndpointOf<G, N>>
export type ErrorOf<G extends HttpApiGroup.HttpApiGroup.Any, N extends string> =
  | HttpApiEndpoint.HttpApiEndpoint.Error<EndpointOf<G, N>>
  | HttpApiGroup.HttpApiGroup.Error<G>

/** One implementation per operation of a group: what its single endpoint and the batch both run. */
export type Operations<G extends HttpApiGroup.HttpApiGroup.Any, R> = {
  readonly [N in OpName<G>]: (payload: PayloadOf<G, N>) => Effect.Effect<SuccessOf<G, N>, ErrorOf<G, N>, R>
}

/** what the operations of a record need */
type RequirementsOf<Ops> = {
  readonly [K in keyof Ops]: Ops[K] extends (p: never) => Effect.Effect<unknown, unknown, infer R> ? R : never
}[keyof Ops]

/**
 * Operations that can also run many calls of a batch at once (optional, per operation): the payloads in the
 * batch's order → one outcome each, in the same order. Same contract and same answers as the operation run
 * call by call; what it saves is the per-call machinery — a fiber, its cache round trips and queries — that
 * otherwise costs more than the lookup it wraps (docs/scan-bench.md). A promise, run without a fiber (since
 * 8 December: the batch's fibers were ~17 % of knowledge's CPU for a batch of cold lookups once its own steps
 * were plain), under `parent`, the span its own spans go under; a rejection fails each of its calls as a defect.
 */
export type BulkOperations<G extends HttpApiGroup.HttpApiGroup.Any> = {
  readonly [N in OpName<G>]?: (
    payloads: ReadonlyArray<PayloadOf<G, N>>,
    parent: Tracer.AnySpan | undefined
  ) => Promise<ReadonlyArray<Either.Either<SuccessOf<G, N>, ErrorOf<G, N>>>>
}

// the contract's schemas need no services (plain structs and tagged errors): typed loosely for the codecs here
type AnySchema = Schema.Schema<unknown, unknown, never>
interface Codecs {
  readonly encodePayload: (a: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly decodePayload: (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly encodeSuccess: (a: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly decodeSuccess: (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly encodeError: (e: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly decodeError: (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
}

const codecsOf = (group: HttpApiGroup.HttpApiGroup.Any): ReadonlyMap<string, Codecs> => {
  const out = new Map<string, Codecs>()
  const g = group as unknown as HttpApiGroup.HttpApiGroup.AnyWithProps
  for (const endpoint of Object.values(g.endpoints)) {
    const payload = Option.getOrElse(endpoint.payloadSchema as Option.Option<AnySchema>, () => Schema.Unknown)
    const success = endpoint.successSchema as AnySchema
    const error = Schema.Union(endpoint.errorSchema as AnySchema, g.errorSchema as AnySchema)
    out.set(endpoint.name, {
      // sent as built when plain (PlainJson.ts): the receiver decodes every call and every answer
      encodePayload: encoderOf(payload),
      decodePayload: Schema.decodeUnknownEither(payload),
      encodeSuccess: encoderOf(success),
      decodeSuccess: Schema.decodeUnknownEither(success),
      encodeError: Schema.encodeEither(error),
      decodeError: Schema.decodeUnknownEither(error)
    })
  }
  return out
}

const failed = (error: string, message: string): BatchOutcome => ({ ok: false, error: { _tag: error, message } })

/** the span a traceparent names, as a parent (none without a valid one) */
const parentOf = (traceparent: string | undefined): Tracer.AnySpan | undefined => {
  const parent = parseTraceparent(traceparent)
  return Option.isSome(parent)
    ? Tracer.externalSpan({ traceId: parent.value.traceId, spanId: parent.value.spanId, sampled: parent.value.sampled })
    : undefined
}

/** the span a call runs in: `<service>.<op>`, a server span under the traceparent the call carried */
const callSpanOptions = (traceparent: string | undefined): Tracer.SpanOptions => {
  const parent = parentOf(traceparent)
  return { kind: "server", captureStackTrace: false, ...(parent !== undefined ? { parent } : {}) }
}

/**
 * The batch endpoint's handler for `group`: every call run concurrently through `operations`, each in a span
 * named `<service>.<op>` under the call's own traceparent, with request batching on: lookups the operations
 * make as Effect requests are collected across the batch's calls and run as one query by their resolver. The
 * calls of an operation that `bulk` also offers run at once through it instead (each still in its own span).
 * Build it once (it derives the group's codecs) and call the result per request.
 */
export const serveBatch = <G extends HttpApiGroup.HttpApiGroup.Any, Ops extends Operations<G, unknown>>(
  service: ServiceName,
  group: G,
  operations: Ops,
  bulk?: BulkOperations<G>
) => {
  type R = RequirementsOf<Ops>
  const codecs = codecsOf(group)
  const run = operations as unknown as Record<string, (p: unknown) => Effect.Effect<unknown, unknown, R>>
  const many = (bulk ?? {}) as unknown as Record<
    string,
    | ((
        ps: ReadonlyArray<unknown>,
        parent: Tracer.AnySpan | undefined
      ) => Promise<ReadonlyArray<Either.Either<unknown, unknown>>>)
    | undefined
  >
  const names = new Map([...codecs.keys()].map((op) => [op, `${service}.${op}`]))

  /** a call's value or error, as the batch answers it (an error outside the contract: InternalError, logged) */
  const encodeSuccess = (op: string, codec: Codecs, value: unknown): Effect.Effect<BatchOutcome> =>
    Either.match(codec.encodeSuccess(value), {
      onLeft: (e) =>
        Effect.as(
          Effect.logError(`${service}.${op} answered outside its contract: ${parseErrorBody(e).message}`),
          failed("InternalError", `${service}.${op} failed`)
        ),
      onRight: (encoded) => Effect.succeed<BatchOutcome>({ ok: true, value: encoded })
    })
  const encodeFailure = (op: string, codec: Codecs, cause: Cause.Cause<unknown>): Effect.Effect<BatchOutcome> => {
    const error = Cause.failureOption(cause)
    const encoded = Option.isSome(error) ? codec.encodeError(error.value) : undefined
    if (encoded !== undefined && Either.isRight(encoded)) {
      return Effect.succeed<BatchOutcome>({ ok: false, error: encoded.right })
    }
    return Effect.as(
      Effect.logError(`${service}.${op} failed`, cause),
      failed("InternalError", `${service}.${op} failed`)
    )
  }

  /** a call checked against the group: its place in the batch, its operation's codecs and decoded payload */
  interface Checked {
    readonly at: number
    readonly call: typeof BatchCall.Type
    readonly codec: Codecs
    readonly payload: unknown
  }
  const check = (call: typeof BatchCall.Type, at: number): Checked | BatchOutcome => {
    const codec = codecs.get(call.op)
    if (codec === undefined || run[call.op] === undefined) {
      return failed(
        "ValidationError",
        `op: ${service} has no internal operation "${call.op}" (its operations: ${[...codecs.keys()].join(", ")})`
      )
    }
    const payload = codec.decodePayload(call.payload)
    if (Either.isLeft(payload)) {
      return failed("ValidationError", `${call.op}: ${parseErrorBody(payload.left).message}`)
    }
    return { at, call, codec, payload: payload.right }
  }

  const one = ({ call, codec, payload }: Checked): Effect.Effect<BatchOutcome, never, R> =>
    run[call.op]!(payload).pipe(
      Effect.withSpan(names.get(call.op)!, callSpanOptions(call.traceparent)),
      Effect.matchCauseEffect({
        onSuccess: (value) => encodeSuccess(call.op, codec, value),
        onFailure: (cause) => encodeFailure(call.op, codec, cause)
      })
    )

  /**
   * The calls of one operation through its bulk form: one run for all, a span each, without a fiber. Each call's
   * answer is encoded here; the rare one that needs logging (an answer outside the contract, a defect) is left in
   * `slow` for the Effect that logs it.
   */
  const together = async (
    spans: PlainSpans,
    op: string,
    calls: ReadonlyArray<Checked>,
    out: Array<BatchOutcome>,
    slow: Array<readonly [Checked, Exit.Exit<unknown, unknown>]>
  ): Promise<void> => {
    const name = names.get(op)!
    const callSpans = calls.map((c) => spans.start(name, parentOf(c.call.traceparent), "server"))
    let all: ReadonlyArray<Either.Either<unknown, unknown>> | undefined
    let defect: unknown
    try {
      all = await many[op]!(
        calls.map((c) => c.payload),
        undefined
      )
    } catch (e) {
      defect = e
    }
    for (const [j, c] of calls.entries()) {
      const r = all?.[j]
      const exit: Exit.Exit<unknown, unknown> =
        all === undefined
          ? Exit.die(defect)
          : r === undefined
            ? Exit.die(new Error(`${op}: no outcome for call ${j}`))
            : Either.isRight(r)
              ? Exit.succeed(r.right)
              : Exit.fail(r.left)
      spans.end(callSpans[j]!, exit)
      // a value or a typed error, encoded by the operation's schemas; a defect (or a bad encode) goes to `slow`
      const encoded = Exit.isSuccess(exit)
        ? Either.map(c.codec.encodeSuccess(exit.value), (value): BatchOutcome => ({ ok: true, value }))
        : r !== undefined && Either.isLeft(r)
          ? Either.map(c.codec.encodeError(r.left), (error): BatchOutcome => ({ ok: false, error }))
          : undefined
      if (encoded !== undefined && Either.isRight(encoded)) out[c.at] = encoded.right
      else slow.push([c, exit])
    }
  }

  return (request: BatchRequest): Effect.Effect<BatchResponse, never, R> => {
    const out: Array<BatchOutcome> = new Array(request.calls.length)
    const single: Array<Checked> = []
    const grouped = new Map<string, Array<Checked>>()
    for (const [i, call] of request.calls.entries()) {
      const c = check(call, i)
      if (!("codec" in c)) out[i] = c
      else if (many[call.op] === undefined) single.push(c)
      else {
        const list = grouped.get(call.op)
        if (list === undefined) grouped.set(call.op, [c])
        else list.push(c)
      }
    }
    const work: Array<Effect.Effect<void, never, R>> = []
    if (grouped.size > 0) {
      work.push(
        Effect.gen(function* () {
          const spans = yield* makePlainSpans
          const slow: Array<readonly [Checked, Exit.Exit<unknown, unknown>]> = []
          yield* Effect.promise(() =>
            Promise.all([...grouped].map(([op, calls]) => together(spans, op, calls, out, slow)))
          )
          // the answers outside the contract and the defects, logged as a call's are
          for (const [c, exit] of slow) {
            out[c.at] = yield* Exit.match(exit, {
              onSuccess: (value) => encodeSuccess(c.call.op, c.codec, value),
              onFailure: (cause) => encodeFailure(c.call.op, c.codec, cause)
            })
          }
        })
      )
    }
    if (single.length > 0) {
      work.push(
        Effect.forEach(
          single,
          (c) =>
            Effect.map(one(c), (r) => {
              out[c.at] = r
            }),
          { concurrency: "unbounded", batching: true, discard: true }
        )
      )
    }
    return Effect.as(work.length === 1 ? work[0]! : Effect.all(work, { concurrency: "unbounded", discard: true }), {
      results: out
    })
  }
}

interface Pending {
  readonly op: string
  readonly payload: unknown
  readonly traceparent: string | undefined
  readonly codec: Codecs
  readonly settle: (outcome: Either.Either<unknown, unknown>) => void
  /** when the call was made (performance.now()) */
  readonly at: number
}

/**
 * What a caller gets: one typed call per operation, batched with the turn's other calls to the same callee. A
 * promise of the call's outcome — its answer or its error, never a rejection — with no fiber per call: the
 * caller passes the traceparent the call carries (the span it runs under).
 */
export interface BatchCaller<G extends HttpApiGroup.HttpApiGroup.Any> {
  readonly call: <N extends OpName<G>>(
    op: N,
    payload: PayloadOf<G, N>,
    traceparent: string | undefined
  ) => Promise<Either.Either<SuccessOf<G, N>, ErrorOf<G, N> | UpstreamError>>
}

/**
 * The caller side, over undici's request API on the process's global dispatcher (keep-alive connections per
 * upstream, kept for the process's life; with Node's `fetch` before it, fetch, web streams and resource timing
 * took ~14 % of the gateway's CPU in a cold round, docs/scan-bench.md). `call(op, payload, traceparent)` joins
 * this turn's batch to `callee` (at `baseUrl`, with `caller`'s service token) and resolves with the call's own
 * answer, decoded by its operation's schemas. A batch that fails below the contract (refused, timed out, not
 * 200, an answer that does not decode) fails each of its calls with UpstreamError naming the callee — the same
 * error the single-call clients gave. Plain promises and callbacks, no fiber per batch: the Effect HTTP client's
 * fiber, scope and timeout race cost more than the request they wrap.
 */
export const makeBatchCaller = <G extends HttpApiGroup.HttpApiGroup.Any>(
  group: G,
  o: {
    readonly baseUrl: string
    readonly caller: ServiceName
    readonly callee: ServiceName
  }
): Effect.Effect<BatchCaller<G>, never, ServiceTokens> =>
  Effect.gen(function* () {
    const tokens = yield* ServiceTokens
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    const codecs = codecsOf(group)
    const url = `${o.baseUrl.replace(/\/$/, "")}/internal/batch`
    const timeoutMs = Duration.toMillis(BATCH_TIMEOUT)
    const upstream = (why: string) =>
      new UpstreamError({ message: `${o.callee} did not answer properly (${why})`, details: { service: o.callee } })
    const decodeResponse = Schema.decodeUnknownEither(BatchResponse)

    const settle = (items: ReadonlyArray<Pending>, results: ReadonlyArray<BatchOutcome>) => {
      for (const [i, item] of items.entries()) {
        const r = results[i]!
        if (r.ok) {
          const value = item.codec.decodeSuccess(r.value)
          item.settle(
            Either.isRight(value) ? value : Either.left(upstream(`${item.op}: an answer outside the contract`))
          )
          continue
        }
        const error = item.codec.decodeError(r.error)
        if (Either.isRight(error)) {
          item.settle(Either.left(error.right))
          continue
        }
        const message =
          typeof r.error === "object" && r.error !== null && "message" in r.error ? String(r.error.message) : "failed"
        item.settle(Either.left(upstream(`${item.op}: ${message}`)))
      }
    }

    /**
     * Each call's time in brandme_internal_call_duration_seconds: waited for the window, then the batch's round
     * trip (label sets built once: a cold scan makes a few calls)
     */
    const metrics = yield* Effect.serviceOption(Metrics)
    const observe = Option.match(metrics, {
      onNone: () => undefined,
      onSome: ({ m, service }) => {
        const waited = { service, callee: o.callee, stage: "waited" }
        const roundTrip = { service, callee: o.callee, stage: "round_trip" }
        return (items: ReadonlyArray<Pending>, sent: number) => {
          const seconds = (performance.now() - sent) / 1000
          for (const item of items) {
            m.internalCallDuration.observe(waited, (sent - item.at) / 1000)
            m.internalCallDuration.observe(roundTrip, seconds)
          }
        }
      }
    })

    /** one batch request; resolves with why it failed below the contract, or undefined once every call is settled */
    const exchange = async (
      items: ReadonlyArray<Pending>,
      signal: AbortSignal,
      answered: () => void
    ): Promise<string | undefined> => {
      const calls = items.map((i) => ({
        op: i.op,
        payload: i.payload,
        ...(i.traceparent !== undefined ? { traceparent: i.traceparent } : {})
      }))
      const response = await request(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [ServiceTokenHeader]: await runPromise(tokens.mint(o.caller, o.callee))
        },
        body: JSON.stringify({ calls }),
        signal
      })
      if (response.statusCode !== 200) {
        const text = await response.body.text().catch(() => "")
        answered()
        return `answered ${response.statusCode}${text === "" ? "" : `: ${text.slice(0, 200)}`}`
      }
      const json = await response.body.json().catch(() => undefined)
      // the round trip ends with the answer read, before the callers go on with their calls' results
      answered()
      const body = decodeResponse(json)
      if (Either.isLeft(body) || body.right.results.length !== items.length)
        return "a batch answer outside the contract"
      settle(items, body.right.results)
      return undefined
    }

    const send = (items: ReadonlyArray<Pending>, done: () => void) => {
      const sent = performance.now()
      let timed = false
      const answered = () => {
        if (timed) return
        timed = true
        observe?.(items, sent)
      }
      const signal = AbortSignal.timeout(timeoutMs)
      const failAll = (why: string) => {
        answered()
        const e = upstream(why)
        for (const item of items) item.settle(Either.left(e))
      }
      exchange(items, signal, answered)
        .then(
          (why) => why !== undefined && failAll(why),
          () => failAll(signal.aborted ? `no answer in ${Duration.format(BATCH_TIMEOUT)}` : "unreachable")
        )
        .finally(done)
    }

    const batcher = makeWindowBatcher<Pending>(send, {
      maxInFlight: MAX_BATCHES_IN_FLIGHT,
      maxBatch: MAX_BATCH_CALLS
    })

    const call = (op: string, payload: unknown, traceparent: string | undefined) => {
      const codec = codecs.get(op)
      if (codec === undefined) return Promise.reject(new Error(`${o.callee} has no internal operation "${op}"`))
      const encoded = codec.encodePayload(payload)
      if (Either.isLeft(encoded)) {
        return Promise.reject(new Error(`${o.callee}.${op}: ${parseErrorBody(encoded.left).message}`))
      }
      return new Promise<Either.Either<unknown, unknown>>((settle) => {
        batcher.push({ op, payload: encoded.right, traceparent, codec, settle, at: performance.now() })
      })
    }
    return { call } as unknown as BatchCaller<G>
  })

/**
 * `POST /internal/batch` as a front lane (Server.ts `HttpFrontLane`): served on node:http before the router,
 * whose per-request pipeline (its fibers, streamed body, middleware) cost more CPU than the batch of cold
 * lookups it carried (docs/scan-bench.md). The lane is the route's only handler (`batchServedByLane` leaves
 * the router none) and answers as the router did: the port's service-token check first (the same verifier and
 * refusal as its caller guard, before the body is read), the body limits and JSON checks, request id, headers
 * and metrics of shared/http (makeFrontLane), the request decoded by BatchRequest (a 400 naming what is
 * wrong), then `serve` (serveBatch) for the answer.
 */
export const batchLane = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R, RS, SE, SR>(
  service: ServiceName,
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  serve: Effect.Effect<(request: BatchRequest) => Effect.Effect<BatchResponse, never, RS>, SE, SR>
) =>
  Layer.effect(
    HttpFrontLane,
    Effect.gen(function* () {
      const lane = yield* makeFrontLane(api, "internalBatch" as HttpApiGroup.HttpApiGroup.Name<Groups>, "batch")
      const tokens = yield* ServiceTokens
      const handler = yield* serve
      const run = Runtime.runPromiseExit(yield* Effect.runtime<RS>())
      const guarded = requiresServiceToken(service)
      const decodeRequest = Schema.decodeUnknownEither(BatchRequest)

      const handle = (req: IncomingMessage, res: ServerResponse) => {
        const r = lane.begin(req)
        const refuse = (status: number, body: ErrorBody) => lane.sendError(res, r, status, body)
        const served = () =>
          lane.readJson(req, refuse, (json) => {
            const request = decodeRequest(json, { errors: "all" })
            if (Either.isLeft(request)) return refuse(400, parseErrorBody(request.left))
            void run(handler(request.right)).then((exit) =>
              Exit.isSuccess(exit)
                ? lane.sendJson(res, r, 200, JSON.stringify(exit.value))
                : lane.failCause(res, r, exit.cause)
            )
          })
        if (!guarded) return served()
        void Effect.runPromiseExit(tokens.verify(headerValue(req.headers[ServiceTokenHeader]), service)).then(
          (exit) => {
            if (Exit.isSuccess(exit)) return served()
            req.resume()
            const refused = Cause.failureOption(exit.cause)
            return Option.isSome(refused)
              ? refuse(refused.value.status, { error: refused.value.error, message: refused.value.message })
              : lane.failCause(res, r, exit.cause)
          }
        )
      }

      return (req, res) => {
        if (!lane.matches(req)) return false
        handle(req, res)
        return true
      }
    })
  )

/**
 * The router's side of a service's batch group: no route (the lane above serves it). `HttpApiBuilder.api` asks a
 * layer for every group of the contract; this one adds none. Built on a one-group API of the same id and group
 * name: a group layer is known by those two names only.
 */
export const batchServedByLane = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
) =>
  HttpApiBuilder.group(HttpApi.make(api.identifier).add(HttpApiGroup.make("internalBatch")), "internalBatch", (h) => h)
