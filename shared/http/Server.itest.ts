import { spawn } from "node:child_process"
import { connect } from "node:net"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Effect, Exit, Layer, Schema, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { AppConfig } from "../config/AppConfig.js"
import { makeRedisTest } from "../layers/Redis.js"
import { Services } from "../ServiceCatalog.js"
import { testConfig } from "../testing/TestDatabase.js"
import { randomPortOffset } from "../testing/TestPlatform.js"
import { HealthApi } from "./Health.js"
import { healthHandlers } from "./HealthHttp.js"
import { serveService } from "./Server.js"

class Teapot extends Schema.TaggedError<Teapot>()(
  "Teapot",
  { message: Schema.String, details: Schema.Struct({ brew: Schema.String }) },
  HttpApiSchema.annotations({ status: 418 })
) {}

const SlowApi = HttpApi.make("console")
  .add(HealthApi)
  .add(
    HttpApiGroup.make("slow")
      .add(HttpApiEndpoint.get("slow", "/slow").addSuccess(Schema.Struct({ done: Schema.Boolean })))
      .add(
        HttpApiEndpoint.post("echo", "/echo")
          .setPayload(Schema.Struct({ n: Schema.Int }))
          .addSuccess(Schema.Struct({ n: Schema.Int }))
          .addError(Teapot)
      )
  )

const SlowLive = HttpApiBuilder.group(SlowApi, "slow", (h) =>
  h
    .handle("slow", () => Effect.as(Effect.sleep("1500 millis"), { done: true }))
    .handle("echo", ({ payload }) =>
      payload.n === 418
        ? Effect.fail(new Teapot({ message: "short and stout", details: { brew: "earl grey" } }))
        : Effect.succeed(payload)
    )
)

const start = async (offset: number, env: Record<string, string> = {}) => {
  const scope = Effect.runSync(Scope.make())
  const layer = serveService(
    "console",
    SlowApi,
    Layer.mergeAll(HttpApiBuilder.group(SlowApi, "health", healthHandlers), SlowLive)
  ).pipe(
    Layer.provide(makeRedisTest().layer),
    Layer.provide(
      Layer.succeed(
        AppConfig,
        testConfig({ PORT_OFFSET: String(offset), HTTP_HOST: "127.0.0.1", SHUTDOWN_GRACE_MS: "5000", ...env })
      )
    )
  )
  await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return { scope, base: `http://127.0.0.1:${Services.console.port + offset}` }
}

describe("the HTTP assembly", () => {
  it("maps schema errors and domain errors to the one JSON shape", async () => {
    const { scope, base } = await start(randomPortOffset())
    try {
      const bad = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"n":"x"}'
      })
      expect(bad.status).toBe(400)
      const badBody = (await bad.json()) as { error: string; message: string }
      expect(badBody.error).toBe("ValidationError")
      expect(badBody.message).toContain("n")
      const notJson = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{"
      })
      expect(notJson.status).toBe(400)
      expect(await notJson.json()).toEqual({
        error: "BadRequest",
        message: "request body is not valid JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)"
      })
      // a body that is not JSON is never quoted back
      const secret = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "hunter2"
      })
      expect(secret.status).toBe(400)
      const secretBody = (await secret.json()) as { error: string; message: string }
      expect(secretBody.error).toBe("BadRequest")
      expect(secretBody.message).toMatch(/^request body is not valid JSON: /)
      expect(secretBody.message).not.toContain("hunter2")
      // another content type: a 415 naming it, whatever the body (a form was decoded as fields, a malformed
      // multipart body was a 500, a +json type hung the request)
      const types = [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/merge-patch+json"
      ]
      for (const type of types) {
        const r = await fetch(`${base}/echo`, {
          method: "POST",
          headers: { "content-type": type },
          body: "n=1",
          signal: AbortSignal.timeout(5000)
        })
        expect(r.status).toBe(415)
        expect(await r.json()).toEqual({
          error: "UnsupportedMediaType",
          message: `content-type ${type.split(";")[0]?.toLowerCase()} is not accepted: send the body as JSON with content-type: application/json`
        })
      }
      // JSON with parameters, in another case, or without a content type at all is read as JSON
      for (const type of ["application/json; charset=utf-8", "Application/JSON", undefined]) {
        const ok = await fetch(`${base}/echo`, {
          method: "POST",
          ...(type === undefined ? {} : { headers: { "content-type": type } }),
          body: new TextEncoder().encode('{"n":1}')
        })
        expect(ok.status).toBe(200)
      }
      // JSON of the wrong kind: in words, not the payload schema's dump
      const array = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "[1]"
      })
      expect(array.status).toBe(400)
      expect(await array.json()).toMatchObject({ error: "ValidationError", message: "body: must be an object" })
      const teapot = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"n":418}'
      })
      expect(teapot.status).toBe(418)
      expect(await teapot.json()).toEqual({
        error: "Teapot",
        message: "short and stout",
        details: { brew: "earl grey" }
      })
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("on shutdown stops accepting and lets in-flight requests finish", async () => {
    const { scope, base } = await start(randomPortOffset())
    const inFlight = fetch(`${base}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }))
    await new Promise((r) => setTimeout(r, 200))
    const closing = Effect.runPromise(Scope.close(scope, Exit.void))
    await new Promise((r) => setTimeout(r, 100))
    const refused = await fetch(`${base}/healthz`).then(
      () => "accepted",
      () => "refused"
    )
    expect(refused).toBe("refused")
    expect(await inFlight).toEqual({ status: 200, body: { done: true } })
    await closing
  })

  it("a service process exits 0 on SIGTERM", async () => {
    const offset = randomPortOffset()
    const child = spawn(process.execPath, ["--import", "tsx", "services/main.ts"], {
      env: { ...process.env, SERVICE: "console", PORT_OFFSET: String(offset), LOG_LEVEL: "warn" },
      stdio: "ignore"
    })
    const url = `http://127.0.0.1:${Services.console.port + offset}/healthz`
    let up = false
    for (let i = 0; i < 240 && !up; i++) {
      up = await fetch(url).then(
        (r) => r.ok,
        () => false
      )
      if (!up) await new Promise((r) => setTimeout(r, 250))
    }
    expect(up).toBe(true)
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c))
      child.kill("SIGTERM")
    })
    expect(code).toBe(0)
  })

  describe("security review (issue 22)", () => {
    const randomOffset = randomPortOffset
    const post = (base: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/echo`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })

    it("finding 6: a NUL in a field or deep nesting is a 400 naming the problem, never a 500", async () => {
      const { scope, base } = await start(randomOffset())
      try {
        const nul = await post(base, '{"n":1,"name":"a\\u0000b"}')
        expect(nul.status).toBe(400)
        expect(await nul.json()).toMatchObject({
          error: "ValidationError",
          message: expect.stringMatching(/^name: .*NUL/)
        })
        const deep = await post(base, `{"n":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)
        expect(deep.status).toBe(400)
        expect(await deep.json()).toMatchObject({ message: "body: nested more than 32 levels deep" })
        const url = await fetch(`${base}/slow?x=%00`)
        expect(url.status).toBe(400)
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })

    it("findings 8, 11: security headers on every answer, CORS from config, x-request-id validated", async () => {
      const { scope, base } = await start(randomOffset(), { HTTP_CORS_ORIGINS: "https://console.example.com" })
      try {
        for (const r of [await fetch(`${base}/healthz`), await post(base, '{"n":"x"}'), await fetch(`${base}/nope`)]) {
          expect(r.headers.get("x-content-type-options")).toBe("nosniff")
          expect(r.headers.get("x-frame-options")).toBe("DENY")
          expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
          expect(r.headers.get("referrer-policy")).toBe("no-referrer")
        }
        const pre = await fetch(`${base}/echo`, {
          method: "OPTIONS",
          headers: { origin: "https://console.example.com", "access-control-request-method": "POST" }
        })
        expect(pre.status).toBe(204)
        expect(pre.headers.get("access-control-allow-origin")).toBe("https://console.example.com")
        expect(pre.headers.get("access-control-allow-headers")).toContain("authorization")
        const foreign = await fetch(`${base}/echo`, { method: "OPTIONS", headers: { origin: "https://evil.example" } })
        expect(foreign.status).toBe(403)
        expect(foreign.headers.get("access-control-allow-origin")).toBeNull()
        const simple = await fetch(`${base}/healthz`, { headers: { origin: "https://console.example.com" } })
        expect(simple.headers.get("access-control-allow-origin")).toBe("https://console.example.com")
        const okId = await fetch(`${base}/healthz`, { headers: { "x-request-id": "abc-123.x:y" } })
        expect(okId.headers.get("x-request-id")).toBe("abc-123.x:y")
        const badId = await fetch(`${base}/healthz`, { headers: { "x-request-id": `<script>${"x".repeat(300)}` } })
        expect(badId.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })

    it("finding 9: a body trickled at 1 byte per second ends in 408 within seconds", async () => {
      const offset = randomOffset()
      const { scope } = await start(offset, { HTTP_REQUEST_TIMEOUT_MS: "3000", HTTP_HEADERS_TIMEOUT_MS: "2000" })
      try {
        const t0 = Date.now()
        const answer = await new Promise<string>((resolve) => {
          const socket = connect(Services.console.port + offset, "127.0.0.1")
          let got = ""
          socket.on("data", (d) => {
            got += d.toString()
          })
          socket.on("close", () => {
            clearInterval(drip)
            resolve(got)
          })
          socket.write(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
          )
          const drip = setInterval(() => socket.write(" "), 1000)
        })
        expect(answer).toMatch(/^HTTP\/1\.1 408/)
        expect(Date.now() - t0).toBeLessThan(6000)
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })

    it("finding 9: one client cannot hold more than HTTP_MAX_CONNECTIONS_PER_CLIENT connections", async () => {
      const offset = randomOffset()
      const { scope } = await start(offset, { HTTP_MAX_CONNECTIONS_PER_CLIENT: "3" })
      const open = () =>
        new Promise<{ closedAt: () => boolean; end: () => void }>((resolve) => {
          let closed = false
          const socket = connect(Services.console.port + offset, "127.0.0.1", () =>
            resolve({ closedAt: () => closed, end: () => socket.destroy() })
          )
          socket.on("close", () => {
            closed = true
          })
        })
      try {
        const held = [await open(), await open(), await open()]
        const fourth = await open()
        await new Promise((r) => setTimeout(r, 300))
        expect(held.map((s) => s.closedAt())).toEqual([false, false, false])
        expect(fourth.closedAt()).toBe(true)
        held[0]?.end()
        await new Promise((r) => setTimeout(r, 300))
        const again = await open()
        await new Promise((r) => setTimeout(r, 300))
        expect(again.closedAt()).toBe(false)
        for (const s of [...held, again]) s.end()
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    })
  })
})
