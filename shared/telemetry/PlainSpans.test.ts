import { Effect, Either, Exit, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { callUnderCurrentSpan, makePlainRunner, makePlainSpans, traceparentOf } from "./PlainSpans.js"

const parent = Tracer.externalSpan({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" })

describe("plain spans", () => {
  it("start a child of the parent given, or a root, and carry its trace in the traceparent", async () => {
    const spans = await Effect.runPromise(makePlainSpans)
    const child = spans.start("Gateway.scan", parent, "server")
    expect(child.traceId).toBe(parent.traceId)
    expect(child.kind).toBe("server")
    expect(traceparentOf(child)).toBe(`00-${parent.traceId}-${child.spanId}-01`)
    const root = spans.start("Gateway.scan", undefined)
    expect(root.traceId).not.toBe(parent.traceId)
    expect(traceparentOf(undefined)).toBeUndefined()
  })

  it("end a span with its work's outcome: a Left as a failure, a rejection as a defect", async () => {
    const spans = await Effect.runPromise(makePlainSpans)
    let seen: Array<Tracer.Span> = []
    const ok = await spans.around("ok", parent, async (s) => {
      seen.push(s)
      return Either.right(1)
    })
    const failed = await spans.around("failed", parent, async (s) => {
      seen.push(s)
      return Either.left("nope")
    })
    await expect(
      spans.around("thrown", parent, async (s) => {
        seen.push(s)
        throw new Error("boom")
      })
    ).rejects.toThrow("boom")
    expect(ok).toEqual(Either.right(1))
    expect(failed).toEqual(Either.left("nope"))
    const exits = seen.map((s) => (s.status._tag === "Ended" ? s.status.exit : undefined))
    expect(exits[0] !== undefined && Exit.isSuccess(exits[0])).toBe(true)
    expect(exits[1]).toEqual(Exit.fail("nope"))
    expect(exits[2] !== undefined && Exit.isFailure(exits[2]) && !Exit.isInterrupted(exits[2])).toBe(true)
    seen = []
  })

  it("give the Effect form the fiber's current span as the parent, and its error as the failure", async () => {
    const [current, given] = await Effect.runPromise(
      Effect.gen(function* () {
        const span = yield* Effect.currentSpan
        const p = yield* callUnderCurrentSpan((p) => Promise.resolve(Either.right(p?.spanId)))
        return [span.spanId, p] as const
      }).pipe(Effect.withSpan("outer"))
    )
    expect(given).toBe(current)
    const failure = await Effect.runPromise(
      Effect.either(callUnderCurrentSpan(() => Promise.resolve(Either.left("refused"))))
    )
    expect(failure).toEqual(Either.left("refused"))
  })

  it("run an in-process Effect under the parent given, resolving with its outcome", async () => {
    const run = await Effect.runPromise(makePlainRunner)
    const traceOf = await run(
      Effect.map(Effect.currentParentSpan, (s) => s.traceId),
      parent
    )
    expect(traceOf).toEqual(Either.right(parent.traceId))
    expect(await run(Effect.fail("no"), undefined)).toEqual(Either.left("no"))
  })
})
