import { spawn } from "node:child_process"
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

const start = async (offset: number) => {
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
        testConfig({ PORT_OFFSET: String(offset), HTTP_HOST: "127.0.0.1", SHUTDOWN_GRACE_MS: "5000" })
      )
    )
  )
  await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return { scope, base: `http://127.0.0.1:${Services.console.port + offset}` }
}

describe("the HTTP assembly", () => {
  it("maps schema errors and domain errors to the one JSON shape", async () => {
    const { scope, base } = await start(30000 + Math.floor(Math.random() * 10000))
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
      expect(((await notJson.json()) as { error: string }).error).toBeTypeOf("string")
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
    const { scope, base } = await start(30000 + Math.floor(Math.random() * 10000))
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
    const offset = 40000 + Math.floor(Math.random() * 10000)
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
})
