import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { factDecoder } from "./Facts.js"

const Fact = Schema.Struct({ garmentId: Schema.String, version: Schema.Int })
const decode = factDecoder(Fact)
const bytes = (text: string) => new TextEncoder().encode(text)

describe("a fact's decoder", () => {
  it("decodes a fact of its schema, ignoring fields it does not know", () => {
    expect(decode(bytes(JSON.stringify({ garmentId: "g1", version: 3, extra: true })))).toEqual(
      Either.right({ garmentId: "g1", version: 3 })
    )
  })

  it("names the problem in words, never the input", () => {
    expect(decode(bytes('{"version": 3}'))).toEqual(Either.left("garmentId: is missing"))
    expect(decode(bytes('{"garmentId": "g1", "version": "secret-value"}'))).toEqual(
      Either.left("version: must be number")
    )
    expect(decode(bytes("secret-value, not json"))).toEqual(Either.left("not JSON"))
  })
})
