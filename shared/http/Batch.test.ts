import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Effect, Logger, LogLevel, Schema } from "effect"
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
