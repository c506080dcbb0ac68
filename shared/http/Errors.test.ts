import { describe, expect, it } from "vitest"
import { toErrorBody } from "./Errors.js"

describe("the one JSON error shape", () => {
  it("reshapes a tagged domain error", () => {
    expect(toErrorBody(404, { _tag: "GarmentNotFound", message: "no garment 1" }, "x")).toEqual({
      error: "GarmentNotFound",
      message: "no garment 1"
    })
    expect(toErrorBody(409, { _tag: "Conflict", message: "stale", details: { version: 3 } }, "x")).toEqual({
      error: "Conflict",
      message: "stale",
      details: { version: 3 }
    })
  })

  it("names schema problems as a ValidationError: the first in words with its path, all in details.issues", () => {
    const body = toErrorBody(
      400,
      {
        _tag: "HttpApiDecodeError",
        message: '{ readonly tag: string }\n└─ ["tag"]\n   └─ is missing',
        issues: [
          { _tag: "Missing", path: ["tag"], message: "is missing" },
          { _tag: "Type", path: ["context", "intent"], message: 'Expected "scan", actual "x"' },
          { _tag: "Type", path: ["context", "intent"], message: 'Expected "buy", actual "x"' }
        ]
      },
      "x"
    )
    expect(body).toEqual({
      error: "ValidationError",
      message: "tag: is missing",
      details: {
        issues: [
          { path: "tag", message: "is missing" },
          { path: "context.intent", message: 'must be "scan" or "buy"' }
        ]
      }
    })
  })

  it("finding 7: never echoes the input (a too-short password does not come back)", () => {
    const body = toErrorBody(
      400,
      {
        _tag: "HttpApiDecodeError",
        message: 'Expected a string at least 10 character(s) long, actual "aaaaaaaaa"',
        issues: [
          {
            _tag: "Refinement",
            path: ["password"],
            message: 'Expected a string at least 10 character(s) long, actual "aaaaaaaaa"'
          }
        ]
      },
      "x"
    )
    expect(JSON.stringify(body)).not.toContain("aaaaaaaaa")
    expect(body.message).toBe("password: must be a string at least 10 character(s) long")
  })

  it("keeps an already-shaped body and fills an empty one", () => {
    expect(toErrorBody(429, { error: "TooManyRequests", message: "slow down" }, "x")).toEqual({
      error: "TooManyRequests",
      message: "slow down"
    })
    expect(toErrorBody(404, undefined, "no route for GET /x")).toEqual({
      error: "NotFound",
      message: "no route for GET /x"
    })
  })
})
