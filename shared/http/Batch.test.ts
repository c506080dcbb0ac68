import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Effect, Either, Logger, LogLevel, Option, Schema, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import { BatchRequest, serveBatch } from "./Batch.js"

class TooBig extends Schema.TaggedError<TooBig>()(
  "TooBig",
  { message: Schema.String, details: Schema.Struct({ max: Schema.Int }) },
  HttpApiSchema.annotations({ status: 422 })
) {}

const Group = HttpApiGroup.make("internal")
  .add(
    HttpApiEndpoint.post("double", "/internal/double")
      .setPayload(Schema.Struct({ n: Schema.Int }))
      .addSuccess(Schema.Struct({ twice: Schema.Int }))
      .addError(TooBig)
  )
  .add(
    HttpApiEndpoint.post("echo", "/internal/echo")
      .setPayload(Schema.Struct({ text: Schema.String }))
      .addSuccess(Schema.Struct({ text: Schema.String }))
  )

const served: Array<string> = []
const handle = serveBatch("brain", Group, {
  double: ({ n }) =>
    n > 100
      ? Effect.fail(new TooBig({ message: `${n} is over 100`, details: { max: 100 } }))
      : n < 0
        ? Effect.die(new Error("negative: a bug"))
        : Effect.sync(() => {
            served.push(`double ${n}`)
            return { twice: 2 * n }
          }),
  echo: ({ text }) => Effect.succeed({ text })
})

const run = (calls: ReadonlyArray<unknown>) =>
  Effect.runPromise(
    handle(Schema.decodeUnknownSync(BatchRequest)({ calls })).pipe(Logger.withMinimumLogLevel(LogLevel.None))
  )

describe("the batch endpoint", () => {
  it("answers every call with its own operation's result, in order", async () => {
    const out = await run([
      { op: "double", payload: { n: 2 } },
      { op: "echo", payload: { text: "hi" } },
      { op: "double", payload: { n: 21 } }
    ])
    expect(out.results).toEqual([
      { ok: true, value: { twice: 4 } },
      { ok: true, value: { text: "hi" } },
      { ok: true, value: { twice: 42 } }
    ])
  })

  it("gives a call's typed error, encoded by the contract, and runs the others", async () => {
    const out = await run([
      { op: "double", payload: { n: 101 } },
      { op: "double", payload: { n: 1 } }
    ])
    expect(out.results[0]).toEqual({
      ok: false,
      error: { _tag: "TooBig", message: "101 is over 100", details: { max: 100 } }
    })
    expect(out.results[1]).toEqual({ ok: true, value: { twice: 2 } })
  })

  it("refuses a bad call in words, alone: an unknown operation, a payload outside its schema", async () => {
    const before = served.length
    const out = await run([
      { op: "triple", payload: { n: 1 } },
      { op: "double", payload: { n: "two" } },
      { op: "double", payload: {} },
      { op: "double", payload: { n: 5 } }
    ])
    expect(out.results[0]).toEqual({
      ok: false,
      error: {
        _tag: "ValidationError",
        message: 'op: brain has no internal operation "triple" (its operations: double, echo)'
      }
    })
    expect(out.results[1]).toEqual({
      ok: false,
      error: { _tag: "ValidationError", message: "double: n: must be number" }
    })
    expect(out.results[2]).toEqual({ ok: false, error: { _tag: "ValidationError", message: "double: n: is missing" } })
    expect(out.results[3]).toEqual({ ok: true, value: { twice: 10 } })
    expect(served.length - before).toBe(1)
  })

  it("answers a defect as an internal error without its details", async () => {
    const out = await run([{ op: "double", payload: { n: -1 } }])
    expect(out.results[0]).toEqual({ ok: false, error: { _tag: "InternalError", message: "brain.double failed" } })
  })

  it("takes 1 to 128 calls a request", () => {
    expect(() => Schema.decodeUnknownSync(BatchRequest)({ calls: [] })).toThrow()
    const many = Array.from({ length: 129 }, () => ({ op: "echo", payload: { text: "x" } }))
    expect(() => Schema.decodeUnknownSync(BatchRequest)({ calls: many })).toThrow()
  })
})

describe("the batch endpoint with a bulk operation", () => {
  const bulkCalls: Array<ReadonlyArray<number>> = []
  const spans: Array<{ name: string; parent: string | undefined }> = []
  const bulkHandle = serveBatch(
    "brain",
    Group,
    {
      double: () => Effect.die(new Error("the bulk form answers double")),
      echo: ({ text }) => Effect.succeed({ text })
    },
    {
      double: async (payloads) => {
        bulkCalls.push(payloads.map((p) => p.n))
        return payloads.map(({ n }) =>
          n > 100
            ? Either.left(new TooBig({ message: `${n} is over 100`, details: { max: 100 } }))
            : Either.right({ twice: 2 * n })
        )
      }
    }
  )
  const runBulk = (calls: ReadonlyArray<unknown>) =>
    Effect.runPromise(
      bulkHandle(Schema.decodeUnknownSync(BatchRequest)({ calls })).pipe(
        Effect.withTracer(
          Tracer.make({
            // a tracer that records each span's name and parent
            span: (name, parent, context, links, startTime, kind) => {
              spans.push({ name, parent: Option.isSome(parent) ? parent.value.spanId : undefined })
              return {
                _tag: "Span",
                name,
                spanId: `s${spans.length}`,
                traceId: "t",
                parent,
                context,
                status: { _tag: "Started", startTime },
                attributes: new Map(),
                links,
                sampled: true,
                kind,
                end: () => {},
                attribute: () => {},
                event: () => {},
                addLinks: () => {}
              }
            },
            context: (f) => f()
          })
        ),
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    )

  it("runs an operation's calls together, once, and answers each in its place with its own result or error", async () => {
    bulkCalls.length = 0
    spans.length = 0
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    const out = await runBulk([
      { op: "double", payload: { n: 2 }, traceparent: parent },
      { op: "echo", payload: { text: "hi" } },
      { op: "double", payload: { n: "two" } },
      { op: "double", payload: { n: 101 } },
      { op: "double", payload: { n: 21 } }
    ])
    expect(out.results).toEqual([
      { ok: true, value: { twice: 4 } },
      { ok: true, value: { text: "hi" } },
      { ok: false, error: { _tag: "ValidationError", message: "double: n: must be number" } },
      { ok: false, error: { _tag: "TooBig", message: "101 is over 100", details: { max: 100 } } },
      { ok: true, value: { twice: 42 } }
    ])
    // one bulk run for the three valid double calls, in their order; the bad one never reached it
    expect(bulkCalls).toEqual([[2, 101, 21]])
    // each call still has its own span, under the traceparent it carried
    const doubles = spans.filter((s) => s.name === "brain.double")
    expect(doubles).toHaveLength(3)
    expect(doubles[0]!.parent).toBe("b7ad6b7169203331")
  })

  it("answers every call of a bulk run that failed as an internal error", async () => {
    const dying = serveBatch(
      "brain",
      Group,
      { double: () => Effect.die(new Error("unused")), echo: ({ text }) => Effect.succeed({ text }) },
      { double: () => Promise.reject(new Error("a bug")) }
    )
    const out = await Effect.runPromise(
      dying(
        Schema.decodeUnknownSync(BatchRequest)({
          calls: [
            { op: "double", payload: { n: 1 } },
            { op: "echo", payload: { text: "x" } },
            { op: "double", payload: { n: 2 } }
          ]
        })
      ).pipe(Logger.withMinimumLogLevel(LogLevel.None))
    )
    expect(out.results).toEqual([
      { ok: false, error: { _tag: "InternalError", message: "brain.double failed" } },
      { ok: true, value: { text: "x" } },
      { ok: false, error: { _tag: "InternalError", message: "brain.double failed" } }
    ])
  })
})
