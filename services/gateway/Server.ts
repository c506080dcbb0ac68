import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { randomUUID } from "node:crypto"
import {
  HttpApiBuilder,
  type HttpApiGroup,
  HttpApiScalar,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { errorResponse, normalizeErrorResponse } from "../../shared/http/Errors.js"
import { Health, HealthLive } from "../../shared/http/Health.js"
import { routeMatcher } from "../../shared/http/Server.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { Metrics, MetricsLive } from "../../shared/telemetry/Metrics.js"
import { GatewayApi, type GatewayGroups } from "./Api.js"

/**
 * The gateway's server. Same contract, pipeline and shutdown as shared/http/Server.ts `serveService`
 * (request id, body limit, RED metrics, one JSON error shape, graceful drain), plus one thing it cannot
 * do: a lean lane in front of the Effect router for `POST /v1/scans`, the hot path. Measured here, the
 * HttpApi router costs more per request than the whole warm scan; the lane decodes the same schema,
 * runs the same `Scans.scan` program and answers the same shapes. (Lead: a `fastRoutes` option on
 * `serveService` would let this file go.)
 */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean

export class GatewayFastLane extends Context.Tag("brandme/gateway/FastLane")<GatewayFastLane, FastLane>() {}

const SERVICE = "gateway" as const

const pipeline =
  (route: (method: string, path: string) => string) =>
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
      m.httpRequestsInFlight.inc({ service: SERVICE })
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
      m.httpRequestsInFlight.dec({ service: SERVICE })
      m.httpRequestsTotal.inc({
        service: SERVICE,
        route: routeLabel,
        method: req.method,
        status: String(response.status)
      })
      m.httpRequestDuration.observe(
        { service: SERVICE, route: routeLabel, method: req.method },
        (performance.now() - t0) / 1000
      )
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    })

const listener = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* AppConfig
    const health = yield* Health
    const fast = yield* GatewayFastLane
    const app = yield* HttpApiBuilder.httpApp
    const handler = yield* NodeHttpServer.makeHandler(pipeline(routeMatcher(GatewayApi))(app))
    const server = createServer((req, res) => {
      if (!fast(req, res)) handler(req, res)
    })
    server.keepAliveTimeout = 65_000
    const port = Services.gateway.port + config.http.portOffset
    yield* Effect.acquireRelease(
      Effect.async<void, never>((resume) => {
        server.listen(port, config.http.host, () => resume(Effect.void))
      }),
      () =>
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

/** Gateway HTTP: the HttpApi app (health, scans, /openapi.json, /docs) behind the scan fast lane. */
export const gatewayServer = <HE, HR, FE, FR, DA, DE, DR>(
  handlers: Layer.Layer<HttpApiGroup.HttpApiGroup.ToService<"gateway", GatewayGroups>, HE, HR>,
  fastLane: Layer.Layer<GatewayFastLane, FE, FR>,
  /** what handlers and lane share (the Scans service), built where the gateway's Metrics are visible */
  deps: Layer.Layer<DA, DE, DR>
) =>
  listener.pipe(
    Layer.provide(HttpApiScalar.layer({ path: "/docs" })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]),
    Layer.provide(HttpApiBuilder.api(GatewayApi).pipe(Layer.provide(handlers))),
    Layer.provide(fastLane),
    Layer.provide(deps),
    Layer.provide(NodeHttpServer.layerContext),
    Layer.provideMerge(HealthLive(SERVICE)),
    Layer.provideMerge(MetricsLive(SERVICE))
  )
