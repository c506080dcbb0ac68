import { createServer, type Server } from "node:http"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Cause, Effect, Layer, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { testConfigLayer } from "../testing/TestDatabase.js"
import { Metrics, makeServiceMetrics } from "../telemetry/Metrics.js"
import { makeFrontLane } from "./Lane.js"
import { RateLimited } from "./RateLimit.js"

class Teapot extends Schema.TaggedError<Teapot>()(
  "Teapot",
  { message: Schema.String, details: Schema.Struct({ pot: Schema.String }) },
  HttpApiSchema.annotations({ status: 418 })
) {}
class Gone extends Schema.TaggedError<Gone>()(
  "Gone",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 410 })
) {}
class Undeclared extends Schema.TaggedError<Undeclared>()("Undeclared", { message: Schema.String }) {}

const Api = HttpApi.make("t")
  .add(
    HttpApiGroup.make("brew").add(
      HttpApiEndpoint.post("pour", "/v1/pour").addSuccess(Schema.String).addError(Teapot).addError(Gone)
    )
  )
  .addError(RateLimited)

const metrics = makeServiceMetrics("gateway")
let server: Server
let base: string

beforeAll(async () => {
  const lane = await Effect.runPromise(
    makeFrontLane(Api, "brew", "pour").pipe(
      Effect.provide(Layer.merge(testConfigLayer({ HTTP_MAX_BODY_BYTES: "64" }), Layer.succeed(Metrics, metrics)))
    )
  )
  server = createServer((req, res) => {
    if (!lane.matches(req)) {
      res.writeHead(404).end()
      return
    }
    const r = lane.begin(req)
    lane.readJson(
      req,
      (status, body) => lane.sendError(res, r, status, body),
      (json) => {
        const what = typeof json === "object" && json !== null && "what" in json ? json.what : undefined
        if (what === "teapot")
          return lane.fail(res, r, new Teapot({ message: "short and stout", details: { pot: "tea" } }))
        if (what === "gone") return lane.fail(res, r, new Gone({ message: "poured" }))
        if (what === "limited")
          return lane.fail(res, r, new RateLimited({ message: "slow down", limit: "ip", retryAfterSeconds: 7 }))
        if (what === "undeclared") return lane.fail(res, r, new Undeclared({ message: "secret internals" }))
        if (what === "defect") return lane.failCause(res, r, Cause.die("boom"))
        return lane.sendJson(res, r, 200, JSON.stringify("poured"))
      }
    )
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  base = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/v1/pour`
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const pour = (body: string, headers: Record<string, string> = {}) =>
  fetch(base, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })

describe("a front lane takes its answers from the contract and shared/http", () => {
  it("answers a declared error with the status its class is annotated with, in the platform's shape", async () => {
    const teapot = await pour(JSON.stringify({ what: "teapot" }), { "x-request-id": "req-1" })
    expect(teapot.status).toBe(418)
    expect(await teapot.json()).toEqual({ error: "Teapot", message: "short and stout", details: { pot: "tea" } })
    expect(teapot.headers.get("x-request-id")).toBe("req-1")
    expect(teapot.headers.get("x-content-type-options")).toBe("nosniff")
    const gone = await pour(JSON.stringify({ what: "gone" }))
    expect(gone.status).toBe(410)
    expect(await gone.json()).toEqual({ error: "Gone", message: "poured" })
  })

  it("answers RateLimited with 429 and Retry-After", async () => {
    const res = await pour(JSON.stringify({ what: "limited" }))
    expect(res.status).toBe(429)
    expect(res.headers.get("retry-after")).toBe("7")
    expect(await res.json()).toEqual({
      error: "RateLimited",
      message: "slow down",
      details: { limit: "ip", retryAfterSeconds: 7 }
    })
  })

  it("answers an error the contract does not declare, and a defect, with a 500 that names only the request", async () => {
    for (const what of ["undeclared", "defect"]) {
      const res = await pour(JSON.stringify({ what }), { "x-request-id": "req-500" })
      expect(res.status).toBe(500)
      expect(await res.json()).toEqual({
        error: "InternalServerError",
        message: "internal error (request id req-500)"
      })
    }
  })

  it("refuses a body over the limit (413) and one that is not JSON (400)", async () => {
    const big = await pour(JSON.stringify({ what: "x".repeat(100) }))
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: string }).error).toBe("PayloadTooLarge")
    const bad = await pour("{nope")
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { message: string }).message).toMatch(/^request body is not valid JSON: /)
    const secret = await pour("hunter2")
    expect(secret.status).toBe(400)
    expect(((await secret.json()) as { message: string }).message).not.toContain("hunter2")
    const empty = await pour("")
    expect(empty.status).toBe(400)
    expect(await empty.json()).toEqual({ error: "BadRequest", message: "request body is not valid JSON: it is empty" })
  })

  it("refuses a body of another content type (415), as the router does", async () => {
    const form = await pour("what=teapot", { "content-type": "application/x-www-form-urlencoded" })
    expect(form.status).toBe(415)
    expect(await form.json()).toEqual({
      error: "UnsupportedMediaType",
      message:
        "content-type application/x-www-form-urlencoded is not accepted: send the body as JSON with content-type: application/json"
    })
    const json = await pour(JSON.stringify({ what: "gone" }), { "content-type": "application/json; charset=utf-8" })
    expect(json.status).toBe(410)
  })

  it("records the request metrics under the contract's route", async () => {
    await pour(JSON.stringify({ what: "nothing" }))
    const text = await metrics.registry.metrics()
    expect(text).toMatch(/brandme_http_requests_total\{[^}]*route="\/v1\/pour"[^}]*status="200"[^}]*\} [1-9]/)
  })
})
