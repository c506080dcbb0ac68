import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Config, Effect, Layer } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { callUrlVariable, localUrl } from "../../shared/ServiceCatalog.js"
import { AuditUpstreamUnavailable, ConsoleApi } from "./Api.js"
import { auditorPage } from "./auditor/page.js"
import { buildAuditorBundle } from "./Bundle.js"

/** Where the console forwards /v1/audit/*: COMPLIANCE_URL (the catalog's call), by default the local compliance port. */
const complianceUrl = Effect.gen(function* () {
  const config = yield* AppConfig
  const variable = callUrlVariable("compliance")
  const url = yield* Config.string(variable).pipe(
    Config.withDefault(localUrl("compliance", config.http.portOffset)),
    Config.validate({
      message: `${variable} must be an http(s) URL`,
      validation: (u) => /^https?:\/\/[^/]+/.test(u)
    })
  )
  return url.replace(/\/+$/, "")
})

const UPSTREAM_TIMEOUT_MS = 10_000

const AuditorLive = HttpApiBuilder.group(ConsoleApi, "auditor", (h) =>
  Effect.gen(function* () {
    const bundle = yield* buildAuditorBundle.pipe(Effect.orDie)
    const upstream = yield* complianceUrl.pipe(Effect.orDie)

    /** Forwards the current request's path and query to the compliance API and relays its answer. */
    const forward = Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest
      const headers: Record<string, string> = { accept: "application/json" }
      const auth = req.headers.authorization
      if (auth !== undefined) headers.authorization = auth
      const rid = req.headers["x-request-id"]
      if (rid !== undefined) headers["x-request-id"] = rid
      const res = yield* Effect.tryPromise({
        try: async () => {
          const r = await fetch(`${upstream}${req.url}`, { headers, signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS) })
          return { status: r.status, type: r.headers.get("content-type") ?? "application/json", body: await r.text() }
        },
        catch: (e) => e
      }).pipe(
        // the caller learns that the audit API is down, never where it lives; the log has the detail
        Effect.tapError((e) => Effect.logWarning("compliance API did not answer", upstream, e)),
        Effect.mapError(
          () => new AuditUpstreamUnavailable({ message: "the audit API did not answer: try again later" })
        )
      )
      return HttpServerResponse.text(res.body, { status: res.status, contentType: res.type })
    }).pipe(Effect.withSpan("Console.forwardAudit", { captureStackTrace: false }))

    return h
      .handleRaw("page", () =>
        Effect.succeed(
          HttpServerResponse.text(auditorPage, {
            contentType: "text/html; charset=utf-8",
            headers: {
              "cache-control": "no-cache",
              // The page runs only its own bundle and talks only to this origin.
              "content-security-policy":
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
            }
          })
        )
      )
      .handleRaw("script", () =>
        Effect.map(HttpServerRequest.HttpServerRequest, (req) =>
          req.headers["if-none-match"] === bundle.etag
            ? HttpServerResponse.empty({ status: 304, headers: { etag: bundle.etag } })
            : HttpServerResponse.text(bundle.code, {
                contentType: "text/javascript; charset=utf-8",
                headers: { etag: bundle.etag, "cache-control": "no-cache" }
              })
        )
      )
      .handleRaw("checkpoint", () => forward)
      .handleRaw("entry", () => forward)
      .handleRaw("consistency", () => forward)
  })
)

export const ConsoleHttpLive = serveService(
  "console",
  ConsoleApi,
  Layer.mergeAll(HttpApiBuilder.group(ConsoleApi, "health", healthHandlers), AuditorLive)
)
