import { createServer, type Server as NodeServer } from "node:http"
import { randomUUID } from "node:crypto"
import {
  HttpApi,
  HttpApiBuilder,
  type HttpApiGroup,
  HttpIncomingMessage,
  HttpServer,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.js"
import { Health, HealthLive } from "./Health.js"
import { type ServiceName, Services } from "../ServiceCatalog.js"
import { Metrics, MetricsLive } from "../telemetry/Metrics.js"
import { errorResponse, normalizeErrorResponse } from "./Errors.js"

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

/**
 * The request pipeline every service shares: request id, body size limit, RED metrics,
 * and one JSON error shape for every 4xx/5xx.
 */
const pipeline =
  (service: ServiceName, route: (method: string, path: string) => string) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const config = yield* AppConfig
      const { m } = yield* Metrics
      const req = yield* HttpServerRequest.HttpServerRequest
      const t0 = performance.now()
      const requestId = req.headers["x-request-id"] ?? randomUUID()
      const path = req.url.split("?")[0] ?? "/"
      const routeLabel = route(req.method, path)
      const maxBody = config.http.maxBodyBytes
      const declared = Number(req.headers["content-length"] ?? "0")
      m.httpRequestsInFlight.inc({ service })
      let response: HttpServerResponse.HttpServerResponse
      if (Number.isFinite(declared) && declared > maxBody) {
        response = errorResponse(413, {
          error: "PayloadTooLarge",
          message: `request body of ${declared} bytes exceeds the limit of ${maxBody} bytes`
        })
      } else {
        response = yield* app.pipe(
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
      const seconds = (performance.now() - t0) / 1000
      m.httpRequestsInFlight.dec({ service })
      m.httpRequestsTotal.inc({ service, route: routeLabel, method: req.method, status: String(response.status) })
      m.httpRequestDuration.observe({ service, route: routeLabel, method: req.method }, seconds)
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    })

/**
 * Graceful shutdown: on scope close (SIGTERM) readiness turns false, the server stops accepting,
 * idle keep-alive sockets close at once and in-flight requests get `SHUTDOWN_GRACE_MS` to finish
 * before their sockets are cut. Pools close after the server (layer order).
 */
const nodeServer = (service: ServiceName) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const server: NodeServer = createServer()
      server.keepAliveTimeout = 65_000
      const port = Services[service].port + config.http.portOffset
      const drain = Layer.scopedDiscard(
        Effect.gen(function* () {
          const health = yield* Health
          yield* Effect.addFinalizer(() =>
            Effect.gen(function* () {
              yield* health.markStopping
              server.closeIdleConnections()
              setTimeout(() => server.closeAllConnections(), config.http.shutdownGraceMs).unref()
            })
          )
        })
      )
      return Layer.merge(
        NodeHttpServer.layer(() => server, { port, host: config.http.host }),
        drain
      )
    })
  )

/** One function turns a service's HttpApi (with the health group) and its handlers into its server. */
export const serveService = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R, HE, HR>(
  service: ServiceName,
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  handlers: Layer.Layer<HttpApiGroup.HttpApiGroup.ToService<Id, Groups>, HE, HR>
) => {
  const route = routeMatcher(api)
  const markStarted = Layer.effectDiscard(Effect.flatMap(Health, (h) => h.markStarted))
  // The pipeline wraps the app itself (not HttpServer middleware): middleware sees a response only
  // after it has been written, and every error answer must be reshaped before that.
  const served = Layer.unwrapEffect(
    Effect.map(HttpApiBuilder.httpApp, (app) => HttpServer.serve(pipeline(service, route)(app)))
  ).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]))
  return served.pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(HttpApiBuilder.api(api).pipe(Layer.provide(handlers))),
    Layer.provideMerge(markStarted),
    Layer.provide(nodeServer(service)),
    Layer.provideMerge(HealthLive(service)),
    Layer.provideMerge(MetricsLive(service))
  )
}
