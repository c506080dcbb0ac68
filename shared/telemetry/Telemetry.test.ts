import { Effect, Logger, Option } from "effect"
import { describe, expect, it } from "vitest"
import { makeJsonLogger } from "./Logging.js"
import { REDACTED, redact, redactString } from "./Redact.js"
import { currentTraceparent, parseTraceparent, withRemoteParent } from "./TraceContext.js"

describe("redaction", () => {
  it("masks personal data and secrets by key and by shape", () => {
    const out = redact({
      email: "olivia@example.com",
      password: "hunter2",
      nested: { authorization: "Bearer abc", note: "mail olivia@example.com with eyJhbGciOi.eyJzdWIiOiIx.sig-_x" },
      url: "postgres://app:s3cret@db:5432/brandme",
      count: 3
    })
    expect(out).toEqual({
      email: REDACTED,
      password: REDACTED,
      nested: { authorization: REDACTED, note: "mail [email] with [jwt]" },
      url: "postgres://app:****@db:5432/brandme",
      count: 3
    })
    expect(redactString("key bm_abcd_0123456789abcdef used")).toBe("key [api-key] used")
  })
})

describe("JSON log lines", () => {
  it("carry level, service, trace and span ids, redacted", async () => {
    const lines: Array<string> = []
    const logger = makeJsonLogger("test-process", (l) => lines.push(l))
    await Effect.runPromise(
      Effect.logInfo("user olivia@example.com signed in").pipe(
        Effect.annotateLogs({ service: "identity", password: "x", userId: "u-1" }),
        Effect.withSpan("Identity.login"),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
    )
    const line = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(line.level).toBe("info")
    expect(line.service).toBe("identity")
    expect(line.message).toBe("user [email] signed in")
    expect(line.password).toBe(REDACTED)
    expect(line.userId).toBe("u-1")
    expect(String(line.trace_id)).toMatch(/^[0-9a-f]{32}$/)
    expect(String(line.span_id)).toMatch(/^[0-9a-f]{16}$/)
  })
})

describe("trace context", () => {
  it("parses W3C traceparent and rejects malformed ones", () => {
    expect(Option.getOrUndefined(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true
    })
    expect(Option.isNone(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))).toBe(true)
    expect(Option.isNone(parseTraceparent("garbage"))).toBe(true)
  })

  it("continues a remote trace: same trace id, the remote span as parent", async () => {
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    const inner = await Effect.runPromise(withRemoteParent("job", tp)(currentTraceparent))
    const value = Option.getOrThrow(inner)
    expect(value.startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-")).toBe(true)
    expect(value).not.toBe(tp)
  })
})
