import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http"
import { Effect, Layer, Tracer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeServiceTokens, ServiceTokenHeader, ServiceTokens } from "../../shared/auth/ServiceTokens.js"
import { Metrics, makeServiceMetrics } from "../../shared/telemetry/Metrics.js"
import { BrainClient } from "../brain/Client.js"
import { defaultMode } from "./Calls.js"

/**
 * The HTTP call layer carries the caller's trace: a stub brain records what it receives. It speaks brain's batch
 * contract (shared/http/Batch.ts): one request to /internal/batch carries the calls of one event-loop turn.
 */
interface SeenCall {
  readonly op: string
  readonly payload: { readonly hint?: string }
  readonly traceparent?: string
}
const seen: Array<IncomingHttpHeaders> = []
const calls: Array<SeenCall> = []
const stub = createServer((req, res) => {
  seen.push(req.headers)
  let text = ""
  req.on("data", (c: Buffer) => (text += c.toString()))
  req.on("end", () => {
    if (req.url?.startsWith("/down/") === true) {
      res.writeHead(502, { "content-type": "text/plain" })
      res.end("bad gateway")
      return
    }
    // under /slow/ every answer takes SLOW_MS
    if (req.url?.startsWith("/slow/") === true) {
      setTimeout(() => answerBatch(req.url!.slice("/slow".length), text, res), SLOW_MS)
      return
    }
    answerBatch(req.url ?? "", text, res)
  })
})
const SLOW_MS = 60
/** brain's batch answer to the calls in `text`: every call refused with brain's typed error under /x/ */
const answerBatch = (url: string, text: string, res: ServerResponse) => {
  if (!url.endsWith("/internal/batch")) {
    res.writeHead(404, { "content-type": "application/json" })
    res.end(JSON.stringify({ error: "NotFound", message: `no route ${url}` }))
    return
  }
  const batch = JSON.parse(text) as { calls: Array<SeenCall> }
  calls.push(...batch.calls)
  const refuse = url.startsWith("/x/")
  res.writeHead(200, { "content-type": "application/json" })
  res.end(
    JSON.stringify({
      results: batch.calls.map((c) =>
        refuse || c.payload.hint === "audit"
          ? {
              ok: false,
              error: {
                _tag: "IntentNotAllowed",
                message: "nope",
                details: { intent: "audit", role: "public", relation: "none" }
              }
            }
          : { ok: true, value: { intent: c.payload.hint ?? "care_instructions" } }
      )
    })
  )
}
let base = ""
const tokens = makeServiceTokens("calls-itest-service-token-key-0123456789")
const brainOver = (url: string) => BrainClient.Http(url).pipe(Layer.provide(Layer.succeed(ServiceTokens, tokens)))

beforeAll(async () => {
  await new Promise<void>((r) => stub.listen(0, "127.0.0.1", () => r()))
  const a = stub.address()
  base = `http://127.0.0.1:${typeof a === "object" && a !== null ? a.port : 0}`
})
afterAll(() => {
  stub.close()
})

describe("internal HTTP calls", () => {
  it("propagate the caller's W3C traceparent", async () => {
    const parent = Tracer.externalSpan({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" })
    const intent = await Effect.runPromise(
      Effect.flatMap(BrainClient, (b) => b.resolveIntent({ role: "public", relation: "none" })).pipe(
        Effect.withSpan("Gateway.scan", { parent }),
        Effect.provide(brainOver(base))
      )
    )
    expect(intent).toBe("care_instructions")
    // in the call itself: a batch carries calls of many traces
    expect(calls.at(-1)?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-0[01]$/)
  })

  it("carry the gateway's service token for brain, one token reused across calls", async () => {
    // two different questions (the same one twice is answered from the client's memo, without a call)
    const call = (relation: "none" | "owner") =>
      Effect.flatMap(BrainClient, (b) => b.resolveIntent({ role: "public", relation }))
    const before = seen.length
    await Effect.runPromise(
      Effect.zipRight(call("none"), call("owner")).pipe(Effect.provide(Layer.fresh(brainOver(base))))
    )
    expect(seen.length - before).toBe(2)
    const [first, second] = seen.slice(-2).map((h) => h[ServiceTokenHeader])
    expect(typeof first).toBe("string")
    expect(second).toBe(first)
    expect(await Effect.runPromise(tokens.verify(String(first), "brain"))).toBe("gateway")
  })

  it("turn the callee's JSON error back into its typed error", async () => {
    const out = await Effect.runPromise(
      Effect.flip(
        Effect.flatMap(BrainClient, (b) => b.resolveIntent({ role: "public", relation: "none", hint: "audit" })).pipe(
          Effect.provide(Layer.fresh(brainOver(`${base}/x`)))
        )
      )
    )
    expect(out._tag).toBe("IntentNotAllowed")
  })

  it("remember brain's answers per question for a minute: an intent or IntentNotAllowed, never a failed call", async () => {
    const before = seen.length
    const ask = (hint?: "audit") =>
      Effect.flatMap(BrainClient, (b) =>
        b.resolveIntent({ role: "auditor", relation: "none", ...(hint !== undefined ? { hint } : {}) })
      )
    // an answer: asked three times, one call
    const intents = await Effect.runPromise(
      Effect.all([ask(), ask(), ask()]).pipe(Effect.provide(Layer.fresh(brainOver(base))))
    )
    expect(intents).toEqual(["care_instructions", "care_instructions", "care_instructions"])
    expect(seen.length - before).toBe(1)
    // a refusal (403 IntentNotAllowed): asked twice, one call, the same typed error both times
    const refusals = await Effect.runPromise(
      Effect.all([Effect.flip(ask("audit")), Effect.flip(ask("audit"))]).pipe(
        Effect.provide(Layer.fresh(brainOver(`${base}/x`)))
      )
    )
    expect(refusals.map((e) => e._tag)).toEqual(["IntentNotAllowed", "IntentNotAllowed"])
    expect(seen.length - before).toBe(2)
    // a call that failed below the contract (a 502 that is no answer of brain's) is made again next time
    const down = await Effect.runPromise(
      Effect.all([Effect.flip(ask()), Effect.flip(ask())]).pipe(Effect.provide(Layer.fresh(brainOver(`${base}/down`))))
    )
    expect(down.map((e) => e._tag)).toEqual(["UpstreamError", "UpstreamError"])
    expect(seen.length - before).toBe(4)
  })

  it("send the calls of one turn in one request, each answered with its own result", async () => {
    const before = seen.length
    const ask = (role: "public" | "brand" | "auditor", hint?: "care_instructions" | "audit") =>
      Effect.either(
        Effect.flatMap(BrainClient, (b) =>
          b.resolveIntent({ role, relation: "none", ...(hint !== undefined ? { hint } : {}) })
        )
      )
    const out = await Effect.runPromise(
      Effect.all([ask("public"), ask("brand", "audit"), ask("auditor", "care_instructions")], {
        concurrency: "unbounded"
      }).pipe(Effect.provide(Layer.fresh(brainOver(base))))
    )
    expect(seen.length - before).toBe(1)
    expect(calls.slice(-3).map((c) => c.op)).toEqual(["resolveIntent", "resolveIntent", "resolveIntent"])
    expect(out.map((e) => (e._tag === "Right" ? e.right : e.left._tag))).toEqual([
      "care_instructions",
      "IntentNotAllowed",
      "care_instructions"
    ])
  })

  it("time each call in brandme_internal_call_duration_seconds: its wait for a batch window, its batch's round trip", async () => {
    const metrics = makeServiceMetrics("gateway")
    // three calls to a callee answering in SLOW_MS: two batches go at once (the window), the third waits for one
    // of them to come back. Each of the first two is made once the batch before it has reached the callee (not
    // after a fixed sleep: on a busy machine two calls a few milliseconds apart could share a turn's batch)
    const ask = (role: "public" | "brand" | "auditor") =>
      Effect.flatMap(BrainClient, (b) => b.resolveIntent({ role, relation: "own_brand" }))
    const arrived = seen.length
    const afterArrivals = (n: number) => Effect.repeat(Effect.sleep(1), { until: () => seen.length >= arrived + n })
    const out = await Effect.runPromise(
      Effect.all(
        [
          ask("public"),
          Effect.zipRight(afterArrivals(1), ask("brand")),
          Effect.zipRight(afterArrivals(2), ask("auditor"))
        ],
        {
          concurrency: "unbounded"
        }
      ).pipe(Effect.provide(Layer.fresh(brainOver(`${base}/slow`))), Effect.provideService(Metrics, metrics))
    )
    expect(out).toEqual(["care_instructions", "care_instructions", "care_instructions"])
    const values = (await metrics.m.internalCallDuration.get()).values
    const of = (stage: string, name: string) =>
      values.filter((v) => v.labels.stage === stage && v.labels.callee === "brain" && v.metricName === name)
    const count = (stage: string) => of(stage, "brandme_internal_call_duration_seconds_count")[0]?.value
    const sum = (stage: string) => of(stage, "brandme_internal_call_duration_seconds_sum")[0]?.value ?? 0
    const under = (stage: string, le: number) =>
      of(stage, "brandme_internal_call_duration_seconds_bucket").find((v) => v.labels.le === le)?.value
    expect(count("waited")).toBe(3)
    expect(count("round_trip")).toBe(3)
    expect(values.every((v) => v.labels.service === "gateway")).toBe(true)
    // each round trip took the callee's SLOW_MS; of the waits, two were none to speak of and one was a round trip
    expect(under("round_trip", 0.05)).toBe(0)
    expect(under("waited", 0.025)).toBe(2)
    expect(sum("waited")).toBeGreaterThan(0.04)
  })

  it("default to in-process when the process runs the callees, HTTP when the gateway runs alone", () => {
    expect(defaultMode("all")).toBe("inprocess")
    expect(defaultMode("gateway,brain,policy,knowledge")).toBe("inprocess")
    expect(defaultMode("gateway")).toBe("http")
    expect(defaultMode("gateway,brain")).toBe("http")
  })
})
