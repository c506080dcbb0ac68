import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ScanEvent } from "./domain/Scan.js"
import { encoderOf, isPlain, jsonEncoderOf } from "./PlainJson.js"

describe("PlainJson", () => {
  it("tells plain schemas (encoded = decoded) from those that transform", () => {
    expect(isPlain(Schema.Struct({ a: Schema.String, b: Schema.optional(Schema.NullOr(Schema.Int)) }))).toBe(true)
    expect(isPlain(Schema.Array(Schema.Union(Schema.Literal("x"), Schema.UUID)))).toBe(true)
    expect(isPlain(Schema.Record({ key: Schema.String, value: Schema.Number }))).toBe(true)
    expect(isPlain(Schema.Struct({ at: Schema.Date }))).toBe(false)
    expect(isPlain(Schema.Struct({ n: Schema.NumberFromString }))).toBe(false)
    expect(isPlain(Schema.Array(Schema.DateTimeUtc))).toBe(false)
    expect(isPlain(Schema.Unknown)).toBe(false)
    expect(isPlain(ScanEvent)).toBe(false)
  })

  it("encodes a plain value as it is and any other with its schema", () => {
    const plain = Schema.Struct({ a: Schema.String })
    expect(encoderOf(plain)({ a: "x" })).toEqual(Either.right({ a: "x" }))
    expect(jsonEncoderOf(plain)({ a: "x" })).toBe('{"a":"x"}')
    const dated = Schema.Struct({ at: Schema.Date })
    expect(encoderOf(dated)({ at: new Date(0) })).toEqual(Either.right({ at: "1970-01-01T00:00:00.000Z" }))
    expect(jsonEncoderOf(Schema.Struct({ n: Schema.NumberFromString }))({ n: 5 })).toBe('{"n":"5"}')
  })
})
