import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { checkJsonBody, firstNulPath, jsonDepth, parseErrorBody } from "./Validation.js"

describe("readable validation errors", () => {
  it("a decode failure: the first problem with its path, all issues listed, no input value", () => {
    const S = Schema.Struct({
      name: Schema.String,
      password: Schema.String.pipe(Schema.minLength(10)),
      items: Schema.Array(Schema.Struct({ n: Schema.Number }))
    })
    const r = Schema.decodeUnknownEither(S, { errors: "all" })({ password: "hunter2pw", items: [{ n: "secret" }] })
    if (Either.isRight(r)) throw new Error("expected a decode failure")
    const body = parseErrorBody(r.left)
    expect(body.message).toBe("name: is missing")
    expect(body.details).toEqual({
      issues: [
        { path: "name", message: "is missing" },
        { path: "password", message: "must be a string at least 10 character(s) long" },
        { path: "items[0].n", message: "must be number" }
      ]
    })
    expect(JSON.stringify(body)).not.toMatch(/hunter2pw|secret/)
  })

  it("a value of the wrong kind where an object or an array belongs: in words, not the schema's dump", () => {
    const S = Schema.Struct({
      email: Schema.String.pipe(Schema.maxLength(254)),
      tags: Schema.Array(Schema.String),
      pair: Schema.Tuple(Schema.String, Schema.Number),
      context: Schema.optional(Schema.Struct({ region: Schema.String }))
    })
    const decode = (u: unknown) => {
      const r = Schema.decodeUnknownEither(S, { errors: "all" })(u)
      if (Either.isRight(r)) throw new Error("expected a decode failure")
      return parseErrorBody(r.left)
    }
    expect(decode([1, 2]).message).toBe("body: must be an object")
    expect(decode("hunter2").message).toBe("body: must be an object")
    const inner = decode({ email: "a@b.c", tags: "x", pair: {}, context: null })
    expect(inner.details).toEqual({
      issues: [
        { path: "tags", message: "must be an array" },
        { path: "pair", message: "must be an array" },
        { path: "context", message: "must be an object" }
      ]
    })
    // a union of literals or a named type keeps the schema's words
    const L = Schema.Struct({ kind: Schema.Literal("a", "b"), n: Schema.Number })
    const r = Schema.decodeUnknownEither(L, { errors: "all" })({ kind: "c", n: "1" })
    if (Either.isRight(r)) throw new Error("expected a decode failure")
    expect(parseErrorBody(r.left).details).toEqual({
      issues: [
        { path: "kind", message: 'must be "a" or "b"' },
        { path: "n", message: "must be number" }
      ]
    })
  })
})

describe("JSON body checks (finding 6)", () => {
  it("counts nesting without recursing, ignoring brackets inside strings", () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[["}]}', 99)).toBe(3)
    expect(jsonDepth("[".repeat(100_000), 32)).toBe(33) // stops early
  })

  it("refuses deep nesting (100k levels) with a 400 body, not a stack overflow", () => {
    const deep = `{"facets":${"[".repeat(100_000)}${"]".repeat(100_000)}}`
    const r = checkJsonBody(deep, 32)
    expect(Either.isLeft(r) && r.left.message).toBe("body: nested more than 32 levels deep")
  })

  it("refuses a NUL character naming the field (values and keys)", () => {
    const r = checkJsonBody(JSON.stringify({ name: "a\u0000b" }), 32)
    expect(Either.isLeft(r) && r.left.message).toBe("name: must not contain a NUL character (\\u0000)")
    expect(firstNulPath({ facets: { materials: [{ x: "ok" }, { y: "\u0000" }] } })).toBe("facets.materials[1].y")
    expect(firstNulPath({ facets: { "k\u0000": 1 } })).toBe("facets.k\\u0000")
    const key = checkJsonBody(JSON.stringify({ facets: { care: { "k\u0000": "v" } } }), 32)
    expect(Either.isLeft(key) && key.left.message).toBe(
      "facets.care.k\\u0000: must not contain a NUL character (\\u0000)"
    )
  })

  it("a body without the escape \\u0000 holds no NUL; an escaped backslash before u0000 is text, not a NUL", () => {
    expect(checkJsonBody('{"tag":"https://id.example.com/01/09506000134352/21/SN1"}', 32)).toEqual(
      Either.right({ tag: "https://id.example.com/01/09506000134352/21/SN1" })
    )
    expect(checkJsonBody('{"name":"a\\\\u0000"}', 32)).toEqual(Either.right({ name: "a\\u0000" }))
  })

  it("passes ordinary bodies through parsed, and an empty one as undefined", () => {
    expect(checkJsonBody('{"a":"ü😀"}', 32)).toEqual(Either.right({ a: "ü😀" }))
    expect(checkJsonBody("", 32)).toEqual(Either.right(undefined))
  })

  it("refuses a body that is not JSON with a 400 saying where, never quoting the body", () => {
    const where = checkJsonBody("{nope", 32)
    expect(where).toEqual(
      Either.left({
        error: "BadRequest",
        message: "request body is not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)"
      })
    )
    for (const body of ["hunter2-secret", '{"password":"hunter2-secret"} x', '{"password": hunter2-secret}']) {
      const r = checkJsonBody(body, 32)
      if (Either.isRight(r)) throw new Error(`expected ${body} to be refused`)
      expect(r.left.error).toBe("BadRequest")
      expect(r.left.message).toMatch(/^request body is not valid JSON: /)
      expect(r.left.message).not.toContain("hunter2")
    }
  })
})
