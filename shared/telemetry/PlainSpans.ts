import { Context, Effect, Either, Exit, FiberRef, Option, Runtime, type Tracer } from "effect"
import { formatTraceparent } from "./TraceContext.js"

/**
 * Spans for code that runs without a fiber: the gateway's scan path and the calls it makes (a fiber and its
 * steps cost more than the work of a cold scan's calls: docs/scan-bench.md). The same spans `Effect.withSpan`
 * makes — the tracer and clock of the runtime they were built in (OpenTelemetry when tracing is on), a parent
 * given explicitly instead of found in a fiber — so one scan is still one trace.
 */
export interface PlainSpans {
  /** a span started now under `parent` (a root without one) */
  readonly start: (name: string, parent: Tracer.AnySpan | undefined, kind?: Tracer.SpanKind) => Tracer.Span
  /** ends `span` now with the outcome of its work (a failure marks it as an error) */
  readonly end: (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) => void
  /**
   * runs `work` in a span that ends when it settles: a value as `outcome` reads it (success unless said), a
   * rejection as a defect (passed on)
   */
  readonly within: <A>(
    name: string,
    parent: Tracer.AnySpan | undefined,
    kind: Tracer.SpanKind,
    work: (span: Tracer.Span) => Promise<A>,
    outcome?: (value: A) => Exit.Exit<unknown, unknown>
  ) => Promise<A>
  /** runs `work` in a span: it ends with the work's outcome, a rejection as a defect */
  readonly around: <A, E>(
    name: string,
    parent: Tracer.AnySpan | undefined,
    work: (span: Tracer.Span) => Promise<Either.Either<A, E>>
  ) => Promise<Either.Either<A, E>>
}

const noLinks: ReadonlyArray<Tracer.SpanLink> = []

export const makePlainSpans: Effect.Effect<PlainSpans> = Effect.gen(function* () {
  const tracer = yield* Effect.tracer
  const clock = yield* Effect.clock
  const timing = yield* FiberRef.get(FiberRef.currentTracerTimingEnabled)
  const now = () => (timing ? clock.unsafeCurrentTimeNanos() : BigInt(0))
  const start = (name: string, parent: Tracer.AnySpan | undefined, kind: Tracer.SpanKind = "internal") =>
    tracer.span(name, parent === undefined ? Option.none() : Option.some(parent), Context.empty(), noLinks, now(), kind)
  const end = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) => span.end(now(), exit)
  const within = <A>(
    name: string,
    parent: Tracer.AnySpan | undefined,
    kind: Tracer.SpanKind,
    work: (span: Tracer.Span) => Promise<A>,
    outcome?: (value: A) => Exit.Exit<unknown, unknown>
  ) => {
    const span = start(name, parent, kind)
    return work(span).then(
      (out) => {
        end(span, outcome === undefined ? Exit.void : outcome(out))
        return out
      },
      (defect: unknown) => {
        end(span, Exit.die(defect))
        throw defect
      }
    )
  }
  const around = <A, E>(
    name: string,
    parent: Tracer.AnySpan | undefined,
    work: (span: Tracer.Span) => Promise<Either.Either<A, E>>
  ) => within(name, parent, "internal", work, (out) => (Either.isRight(out) ? Exit.void : Exit.fail(out.left)))
  return { start, end, within, around }
})

/** a span's W3C traceparent (what an internal call carries) */
export const traceparentOf = (span: Tracer.AnySpan | undefined): string | undefined =>
  span === undefined ? undefined : formatTraceparent(span)

/**
 * The Effect form of a call written as a promise of its outcome: run under the fiber's current span (the
 * parent the promise form takes), failing with the call's error.
 */
export const callUnderCurrentSpan = <A, E>(
  call: (parent: Tracer.AnySpan | undefined) => Promise<Either.Either<A, E>>
): Effect.Effect<A, E> =>
  Effect.flatMap(Effect.option(Effect.currentParentSpan), (parent) =>
    Effect.flatten(Effect.promise(() => call(Option.getOrUndefined(parent))))
  )

/**
 * The plain form of an Effect (in-process clients): a runner that runs it under `parent` and resolves with its
 * outcome.
 */
export const makePlainRunner = Effect.map(Effect.runtime<never>(), (runtime) => {
  const run = Runtime.runPromise(runtime)
  return <A, E>(effect: Effect.Effect<A, E>, parent: Tracer.AnySpan | undefined): Promise<Either.Either<A, E>> =>
    run(Effect.either(parent === undefined ? effect : Effect.withParentSpan(effect, parent)))
})
