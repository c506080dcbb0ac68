import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Layer, Option } from "effect"
import { AppConfig, callUrl } from "../../shared/config/AppConfig.js"
import { errorResponse } from "../../shared/http/Errors.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { ServiceTokenHeader, ServiceTokens, ServiceTokensLive } from "../../shared/auth/ServiceTokens.js"
import { requiresServiceToken } from "../../shared/ServiceCatalog.js"
import { AuditUpstreamUnavailable, ConsoleApi } from "./Api.js"
import { appPage, appStyles } from "./app/page.js"
import { auditorPage } from "./auditor/page.js"
import { appBundle, type Bundle, buildAuditorBundle } from "./Bundle.js"

type UpstreamName = "gateway" | "compliance" | "chain"

/** Where the console forwards: `<NAME>_URL` (the catalog's calls), by default the local port of that service. */
const upstreamUrl = (name: UpstreamName) => Effect.map(AppConfig, (config) => callUrl(config, name))

const UPSTREAM_TIMEOUT_MS = 15_000
/** The session cookie: the gateway token, httpOnly (no script reads it), sent only to /api on this site. */
const SESSION_COOKIE = "brandme_session"
const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

interface Upstream {
  readonly status: number
  readonly type: string
  readonly body: string
  readonly disposition: string | null
}

/** One call to an upstream API; its answer comes back unchanged (errors included: they are already readable). */
const send = (
  url: string,
  init: { readonly method: string; readonly headers: Record<string, string>; readonly body?: string }
) =>
  Effect.tryPromise({
    try: async (): Promise<Upstream> => {
      const r = await fetch(url, {
        method: init.method,
        headers: init.headers,
        signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
        ...(init.body !== undefined ? { body: init.body } : {})
      })
      return {
        status: r.status,
        type: r.headers.get("content-type") ?? "application/json",
        body: await r.text(),
        disposition: r.headers.get("content-disposition")
      }
    },
    catch: (e) => e
  }).pipe(
    // the caller learns that an upstream API is down, never where it lives; the log has the detail
    Effect.tapError((e) => Effect.logWarning("console upstream did not answer", new URL(url).host, e)),
    Effect.mapError(() => new AuditUpstreamUnavailable({ message: "the API did not answer: try again later" }))
  )

const relay = (u: Upstream) =>
  HttpServerResponse.text(u.body, {
    status: u.status,
    contentType: u.type,
    headers: u.disposition === null ? {} : { "content-disposition": u.disposition }
  })

const forwardedHeaders = (req: HttpServerRequest.HttpServerRequest, token: string | undefined) => {
  const headers: Record<string, string> = { accept: "application/json" }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const rid = req.headers["x-request-id"]
  if (rid !== undefined) headers["x-request-id"] = rid
  // the gateway limits per client IP: name the browser's address, not ours
  if (Option.isSome(req.remoteAddress)) headers["x-forwarded-for"] = req.remoteAddress.value
  return headers
}

/**
 * The console's service token for an upstream that answers services only (compliance, chain); the gateway is
 * public. The person's own token still travels in Authorization and is checked there.
 */
const withServiceToken = (headers: Record<string, string>, upstream: UpstreamName) =>
  requiresServiceToken(upstream)
    ? Effect.map(
        Effect.flatMap(ServiceTokens, (tokens) => tokens.mint("console", upstream)),
        (token) => ({ ...headers, [ServiceTokenHeader]: token })
      )
    : Effect.succeed(headers)

const serveBundle = (bundle: Bundle) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (req) =>
    req.headers["if-none-match"] === bundle.etag
      ? HttpServerResponse.empty({ status: 304, headers: { etag: bundle.etag } })
      : HttpServerResponse.text(bundle.code, {
          contentType: "text/javascript; charset=utf-8",
          headers: { etag: bundle.etag, "cache-control": "no-cache" }
        })
  )

const AuditorLive = HttpApiBuilder.group(ConsoleApi, "auditor", (h) =>
  Effect.gen(function* () {
    const bundle = yield* buildAuditorBundle.pipe(Effect.orDie)
    const upstream = yield* upstreamUrl("compliance").pipe(Effect.orDie)

    /** Forwards the current request's path and query to the compliance API with the caller's Authorization. */
    const forward = Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest
      const headers = forwardedHeaders(req, undefined)
      const auth = req.headers.authorization
      if (auth !== undefined) headers.authorization = auth
      return relay(
        yield* send(`${upstream}${req.url}`, { method: "GET", headers: yield* withServiceToken(headers, "compliance") })
      )
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
      .handleRaw("script", () => serveBundle(bundle))
      .handleRaw("checkpoint", () => forward)
      .handleRaw("entry", () => forward)
      .handleRaw("consistency", () => forward)
  })
)

const AppLive = HttpApiBuilder.group(ConsoleApi, "app", (h) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const bundle = yield* appBundle.pipe(Effect.orDie)
    if (bundle.built) yield* Effect.logInfo(`console app built (${Math.round(bundle.bytes / 1024)} KiB)`)
    const gateway = yield* upstreamUrl("gateway")
    const compliance = yield* upstreamUrl("compliance")
    const chain = yield* upstreamUrl("chain")
    const secure = config.appEnv !== "development"
    // the SRE page's links into Grafana (the dashboards are tagged brandme: observability/grafana/dashboards.ts)
    const grafana = config.console.grafanaUrl
    const html = appPage(bundle.etag, [
      { title: "Brand.Me dashboards (overview and one per service)", url: `${grafana}/dashboards?tag=brandme` },
      { title: "Alerts firing", url: `${grafana}/alerting/list?search=state:firing` },
      { title: "Explore logs and traces", url: `${grafana}/explore` }
    ])
    const upstreamFor = (path: string): UpstreamName =>
      path.startsWith("/v1/audit/") ? "compliance" : path.startsWith("/v1/chain/") ? "chain" : "gateway"
    const urls = { gateway, compliance, chain }

    const tokenOf = (req: HttpServerRequest.HttpServerRequest) => {
      const t = req.cookies[SESSION_COOKIE]
      return t === undefined || t === "" ? undefined : t
    }
    const notSignedIn = () =>
      errorResponse(401, { error: "Unauthorized", message: "you are not signed in (or your session has ended)" })
    const clearCookie = (res: HttpServerResponse.HttpServerResponse) =>
      HttpServerResponse.expireCookie(res, SESSION_COOKIE, { path: "/api", httpOnly: true, sameSite: "strict", secure })

    /** /api/<path> → the upstream API's <path>, with the session's token. */
    const proxy = Effect.gen(function* () {
      const req = yield* HttpServerRequest.HttpServerRequest
      const path = req.url.slice("/api".length)
      if (req.method !== "GET" && req.headers["x-brandme-console"] !== "1") {
        return errorResponse(403, { error: "Forbidden", message: "writes need the x-brandme-console: 1 header" })
      }
      const headers = forwardedHeaders(req, tokenOf(req))
      const type = req.headers["content-type"]
      if (type !== undefined) headers["content-type"] = type
      const body = req.method === "GET" || req.method === "DELETE" ? undefined : yield* Effect.orDie(req.text)
      const upstream = upstreamFor(path)
      const res = yield* send(`${urls[upstream]}${path}`, {
        method: req.method,
        headers: yield* withServiceToken(headers, upstream),
        ...(body !== undefined && body.length > 0 ? { body } : {})
      })
      // an ended session: forget the cookie so the app shows the sign-in page
      return res.status === 401 && path !== "/v1/auth/login" ? clearCookie(relay(res)) : relay(res)
    }).pipe(Effect.withSpan("Console.proxy", { captureStackTrace: false }))

    const page = (html: string, type: string) =>
      Effect.succeed(
        HttpServerResponse.text(html, {
          contentType: type,
          headers: { "cache-control": "no-cache", "content-security-policy": CSP, "x-frame-options": "DENY" }
        })
      )

    return h
      .handleRaw("index", () => page(html, "text/html; charset=utf-8"))
      .handleRaw("styles", () => page(appStyles, "text/css; charset=utf-8"))
      .handleRaw("script", () => serveBundle(bundle))
      .handleRaw("session", () =>
        Effect.gen(function* () {
          const req = yield* HttpServerRequest.HttpServerRequest
          const token = tokenOf(req)
          if (token === undefined) return notSignedIn()
          const res = yield* send(`${gateway}/v1/me`, { method: "GET", headers: forwardedHeaders(req, token) })
          return res.status === 401 ? clearCookie(relay(res)) : relay(res)
        })
      )
      .handle("signIn", ({ payload }) =>
        Effect.gen(function* () {
          const req = yield* HttpServerRequest.HttpServerRequest
          if (req.headers["x-brandme-console"] !== "1") {
            return errorResponse(403, { error: "Forbidden", message: "sign-in needs the x-brandme-console: 1 header" })
          }
          const headers = { ...forwardedHeaders(req, undefined), "content-type": "application/json" }
          const res = yield* send(`${gateway}/v1/auth/login`, {
            method: "POST",
            headers,
            body: JSON.stringify(payload)
          })
          if (res.status !== 200) return relay(res)
          const login: unknown = JSON.parse(res.body)
          if (
            typeof login !== "object" ||
            login === null ||
            !("token" in login) ||
            typeof login.token !== "string" ||
            !("expiresIn" in login) ||
            typeof login.expiresIn !== "number" ||
            !("user" in login)
          ) {
            return yield* new AuditUpstreamUnavailable({ message: "the gateway's sign-in answer was not understood" })
          }
          return HttpServerResponse.unsafeSetCookie(
            HttpServerResponse.unsafeJson({ user: login.user, expiresIn: login.expiresIn }),
            SESSION_COOKIE,
            login.token,
            { httpOnly: true, sameSite: "strict", secure, path: "/api", maxAge: `${login.expiresIn} seconds` }
          )
        })
      )
      .handleRaw("signOut", () =>
        Effect.gen(function* () {
          const req = yield* HttpServerRequest.HttpServerRequest
          const token = tokenOf(req)
          // revoke the session at identity (a failure still forgets the cookie; the token then dies with its TTL)
          if (token !== undefined) {
            yield* Effect.ignore(
              send(`${gateway}/v1/auth/logout`, { method: "POST", headers: forwardedHeaders(req, token) })
            )
          }
          return clearCookie(HttpServerResponse.empty({ status: 204 }))
        })
      )
      .handleRaw("get", () => proxy)
      .handleRaw("post", () => proxy)
      .handleRaw("put", () => proxy)
      .handleRaw("patch", () => proxy)
      .handleRaw("del", () => proxy)
  })
)

export const ConsoleHttpLive = serveService(
  "console",
  ConsoleApi,
  Layer.mergeAll(HttpApiBuilder.group(ConsoleApi, "health", healthHandlers), AuditorLive, AppLive).pipe(
    Layer.provide(ServiceTokensLive)
  )
)
