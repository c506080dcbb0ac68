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

  it("names schema problems as a ValidationError with the issues", () => {
    const body = toErrorBody(
      400,
      { _tag: "HttpApiDecodeError", message: "tag is missing", issues: [{ path: ["tag"] }] },
      "x"
    )
    expect(body.error).toBe("ValidationError")
    expect(body.message).toBe("tag is missing")
    expect(body.details).toEqual({ issues: [{ path: ["tag"] }] })
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
