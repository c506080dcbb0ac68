import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
// the module, not the package index: the index loads @effect/cluster, rpc and workflow too
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Effect, Either, Layer, Option } from "effect"
import { ServeError } from "@effect/platform/HttpServerError"
import { AppConfig } from "../config/AppConfig.js"
import { Health, HealthLive } from "./Health.js"
import {
  HealthPaths,
  MetricsPorts,
  OpenPaths,
  requiresServiceToken,
  type ServiceName,
  Services
} from "../ServiceCatalog.js"
import {
  ServiceTokenHeader,
  ServiceTokens,
  type ServiceTokenService,
  ServiceTokensLive
} from "../auth/ServiceTokens.js"
import { Metrics, MetricsLive } from "../telemetry/Metrics.js"
import { errorResponse, normalizeErrorResponse } from "./Errors.js"
import { limitListener, preflight, requestIdOf, TIMEOUT_CHECK_INTERVAL_MS } from "./Hardening.js"
import { answerHeaders, payloadTooLarge, requestMetrics } from "./Lane.js"
import { checkJsonBody, unsupportedMediaType } from "./Validation.js"

/** Route templates of an API, so metrics label by `/v1/garments/:id`, never by raw URL. */
export const routeMatcher = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>
): ((method: string, path: string) => string) => {
  const routes: Array<{ method: string; re: RegExp; template: string }> = []
  HttpApi.reflect(api, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => {
      const pattern = endpoint.path
        .split("/")
        .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/")
      routes.push({ method: endpoint.method, re: new RegExp(`^${pattern}/?$`), template: endpoint.path })
    }
  })
  return (method, path) => {
    for (const r of routes) if (r.method === method && r.re.test(path)) return r.template
    return path === "/openapi.json" || path === "/docs" ? path : "unmatched"
  }
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])

/**
 * A body that is not JSON (a 415 for another content type, a 400 for text that does not parse), too deep or
 * with a NUL character, answered before the route decodes it (Validation.ts). The body read here is cached on
 * the request: the route decodes the same text.
 */
const checkBody = (req: HttpServerRequest.HttpServerRequest, maxDepth: number) => {
  if (!BODY_METHODS.has(req.method)) return Effect.succeedNone
  return req.text.pipe(
    Effect.map((text) => {
      if (text === "") return Option.none<HttpServerResponse.HttpServerResponse>()
      const media = unsupportedMediaType(req.headers["content-type"])
      if (media !== undefined) return Option.some(errorResponse(415, media))
      return Either.match(checkJsonBody(text, maxDepth), {
        onLeft: (body) => Option.some(errorResponse(400, body)),
        onRight: () => Option.none()
      })
    }),
    // an unreadable body (too large, aborted) is the route's to answer, as before
    Effect.orElseSucceed(() => Option.none<HttpServerResponse.HttpServerResponse>())
  )
}

const NUL_IN_URL = /%00/i

/**
 * The request pipeline every service shares: request id (validated), guards (service identity, rate limits), CORS, body
 * size and JSON shape limits, RED metrics, one JSON error shape for every 4xx/5xx, and the security
 * headers on every answer.
 */
const pipeline =
  (route: (method: string, path: string) => string, guard: RequestGuard, metrics: ReturnType<typeof requestMetrics>) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const config = yield* AppConfig
      const req = yield* HttpServerRequest.HttpServerRequest
      const t0 = performance.now()
      const requestId = requestIdOf(req.headers["x-request-id"])
      const path = req.url.split("?")[0] ?? "/"
      const routeLabel = route(req.method, path)
      const maxBody = config.http.maxBodyBytes
      const declared = Number(req.headers["content-length"] ?? "0")
      const origin = req.headers.origin
      metrics.started()
      let response: HttpServerResponse.HttpServerResponse
      // the guard first: an oversized or malformed request is still charged to its caller
      const refused = yield* guard(req, path)
      if (Option.isSome(refused)) {
        response = refused.value
      } else if (req.method === "OPTIONS") {
        const p = preflight(origin, config.http.corsOrigins)
        response =
          p.status === 204
            ? HttpServerResponse.empty({ status: 204, headers: p.headers })
            : errorResponse(
                403,
                { error: "Forbidden", message: "cross-origin requests from this origin are not allowed" },
                p.headers
              )
      } else if (NUL_IN_URL.test(req.url)) {
        response = errorResponse(400, {
          error: "ValidationError",
          message: "url: must not contain a NUL character (%00)"
        })
      } else if (Number.isFinite(declared) && declared > maxBody) {
        response = errorResponse(413, payloadTooLarge(maxBody, declared))
      } else {
        const bad = yield* checkBody(req, config.http.maxJsonDepth).pipe(
          HttpIncomingMessage.withMaxBodySize(Option.some(maxBody))
        )
        response = Option.isSome(bad)
          ? bad.value
          : yield* app.pipe(
              HttpIncomingMessage.withMaxBodySize(Option.some(maxBody)),
              Effect.catchAllCause((cause) =>
                Effect.flatMap(HttpServerError.causeResponse(cause), ([res, c]) =>
                  res.status >= 500 ? Effect.as(Effect.logError("request failed", c), res) : Effect.succeed(res)
                )
              )
            )
      }
      if (response.status >= 400) {
        response = normalizeErrorResponse(response, { method: req.method, url: req.url, requestId })
      }
      metrics.finished(routeLabel, req.method, response.status, t0)
      const contentType = response.headers["content-type"] ?? contentTypeOf(response)
      return HttpServerResponse.setHeaders(
        response,
        answerHeaders(
          config.appEnv !== "development",
          config.http.corsOrigins,
          contentType,
          response.headers,
          origin,
          requestId
        )
      )
    })

/** The body's own content type (HttpServerResponse keeps it on the body, not in the headers). */
const contentTypeOf = (response: HttpServerResponse.HttpServerResponse): string | undefined =>
  response.body._tag === "Empty" ? undefined : response.body.contentType

/**
 * A lane in front of the Effect router: a plain node:http handler that may answer a request itself
 * (return true) — the gateway serves its hot path this way — or pass it on (return false).
 */
export type FrontLane = (req: IncomingMessage, res: ServerResponse) => boolean

export class HttpFrontLane extends Context.Reference<HttpFrontLane>()("brandme/http/FrontLane", {
  defaultValue: (): FrontLane => () => false
}) {}

/**
 * A check every routed request passes before its handler (the gateway's rate limits): answer it
 * (Some: e.g. a 429) or let it through (None). Runs inside the pipeline, so a refusal gets the
 * request id, metrics and the JSON error shape like any other answer.
 */
export type RequestGuard = (
  req: HttpServerRequest.HttpServerRequest,
  path: string
) => Effect.Effect<Option.Option<HttpServerResponse.HttpServerResponse>>

export class HttpRequestGuard extends Context.Reference<HttpRequestGuard>()("brandme/http/RequestGuard", {
  defaultValue: (): RequestGuard => () => Effect.succeedNone
}) {}

/**
 * Service identity (shared/auth/ServiceTokens.ts): on a port that answers services only, every request but
 * probes and scrapes (`OpenPaths`) must carry a service token of one of the port's declared callers.
 */
const callerGuard =
  (service: ServiceName, tokens: ServiceTokenService): RequestGuard =>
  (req, path) =>
    OpenPaths.has(path)
      ? Effect.succeedNone
      : tokens.verify(req.headers[ServiceTokenHeader], service).pipe(
          Effect.as(Option.none<HttpServerResponse.HttpServerResponse>()),
          Effect.catchAll((refused) =>
            Effect.succeed(
              Option.some(errorResponse(refused.status, { error: refused.error, message: refused.message }))
            )
          )
        )

/** The caller check first (a request no service sent is refused before anything else looks at it), then `guard`. */
const guardsOf = (service: ServiceName, tokens: ServiceTokenService, guard: RequestGuard): RequestGuard => {
  if (!requiresServiceToken(service)) return guard
  const callers = callerGuard(service, tokens)
  return (req, path) =>
    Effect.flatMap(callers(req, path), (refused) =>
      Option.isSome(refused) ? Effect.succeed(refused) : guard(req, path)
    )
}

/** Binds a server to host:port; a bind error (port in use) fails with ServeError rather than crashing. */
const listen = (server: Server, port: number, host: string) =>
  Effect.async<void, ServeError>((resume) => {
    const onError = (cause: unknown) => resume(Effect.fail(new ServeError({ cause })))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

/**
 * The listener. Graceful shutdown: on scope close (SIGTERM) readiness turns false, the server stops
 * accepting, idle keep-alive sockets close at once and in-flight requests get `SHUTDOWN_GRACE_MS` to
 * finish before their sockets are cut. Pools close after the server (layer order).
 */
const listener = (service: ServiceName, route: (method: string, path: string) => string) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const health = yield* Health
      const lane = yield* HttpFrontLane
      const guard = guardsOf(service, yield* ServiceTokens, yield* HttpRequestGuard)
      const app = yield* HttpApiBuilder.httpApp
      const handler = yield* NodeHttpServer.makeHandler(pipeline(route, guard, requestMetrics(yield* Metrics))(app))
      const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, (req, res) => {
        if (!lane(req, res)) handler(req, res)
      })
      server.keepAliveTimeout = 65_000
      limitListener(server, config.http)
      const port = Services[service].port + config.http.portOffset
      yield* Effect.acquireRelease(listen(server, port, config.http.host), () =>
        Effect.gen(function* () {
          yield* health.markStopping
          server.closeIdleConnections()
          setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs).unref()
          yield* Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
        })
      )
      yield* health.markStarted
    })
  )

/**
 * `/metrics` on the service's own metrics port (ServiceCatalog `MetricsPorts` + PORT_OFFSET), nothing else:
 * the service port no longer serves it, so the NetworkPolicy admits Prometheus to this port alone.
 * Closed after the service listener (layer order), so the last scrape still sees the drain.
 */
export const metricsListener = (service: ServiceName) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const { registry } = yield* Metrics
      const server = createServer((req, res) => {
        const path = (req.url ?? "/").split("?")[0]
        if (req.method !== "GET" || path !== HealthPaths.metrics) {
          res.writeHead(404, { "content-type": "text/plain" }).end("not found: this port serves GET /metrics only\n")
          return
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
          (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(e)}\n`)
        )
      })
      server.keepAliveTimeout = 65_000
      const port = MetricsPorts[service] + config.http.portOffset
      yield* Effect.acquireRelease(listen(server, port, config.http.host), () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
      )
    })
  )

/**
 * The interactive API reference at /docs, made on its first request: the page inlines ~3 MB of script
 * (HttpApiScalar), which a process nobody asks for it need not load or hold.
 */
const apiReference = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const api = yield* HttpApi.Api
    const page = yield* Effect.cached(
      Effect.gen(function* () {
        const { layer } = yield* Effect.promise(() => import("@effect/platform/HttpApiScalar"))
        const built = yield* Layer.build(
          layer({ path: "/docs" }).pipe(
            Layer.provideMerge(HttpApiBuilder.Router.Live),
            Layer.provide(Layer.succeed(HttpApi.Api, api))
          )
        ).pipe(Effect.scoped)
        return yield* Context.get(built, HttpApiBuilder.Router).router
      })
    )
    yield* router.get("/docs", Effect.flatten(page))
  })
)

export interface ServeOptions<LE, LR> {
  /** serve an interactive API reference at /docs */
  readonly docs?: boolean
  /** a lean handler in front of the router (see FrontLane) */
  readonly lane?: Layer.Layer<HttpFrontLane, LE, LR>
  /** a check before every routed request (see RequestGuard) */
  readonly guard?: Layer.Layer<HttpRequestGuard, LE, LR>
  /**
   * routes beside the contract, on the same router and pipeline (the gateway's GS1 Digital Link
   * resolver: redirects and HTML that an HttpApi endpoint does not describe)
   */
  readonly routes?: Layer.Layer<never, LE, LR | HttpApiBuilder.Router>
}

/** One function turns a service's HttpApi (with the health group) and its handlers into its server. */
export const serveService = <
  Id extends string,
  Groups extends HttpApiGroup.HttpApiGroup.Any,
  E,
  R,
  HE,
  HR,
  LE = never,
  LR = never
>(
  service: ServiceName,
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  handlers: Layer.Layer<HttpApiGroup.HttpApiGroup.ToService<Id, Groups>, HE, HR>,
  options: ServeOptions<LE, LR> = {}
) =>
  listener(service, routeMatcher(api)).pipe(
    Layer.provide(options.docs === true ? apiReference : Layer.empty),
    Layer.provide(options.routes ?? Layer.empty),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]),
    Layer.provide(HttpApiBuilder.api(api).pipe(Layer.provide(handlers))),
    Layer.provide(options.lane ?? Layer.empty),
    Layer.provide(options.guard ?? Layer.empty),
    Layer.provide(ServiceTokensLive),
    Layer.provide(NodeHttpServer.layerContext),
    Layer.provideMerge(HealthLive(service)),
    Layer.provideMerge(metricsListener(service)),
    Layer.provideMerge(MetricsLive(service))
  )
