import type { IncomingMessage, ServerResponse } from "node:http"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import { Effect, Either, Exit, Layer, Option, Runtime, Schema } from "effect"
import { verifyBearer, verifyBearerNow } from "../../../shared/auth/Authenticate.js"
import { Tokens } from "../../../shared/auth/Tokens.js"
import { AppConfig } from "../../../shared/config/AppConfig.js"
import { trustedClientHop } from "../../../shared/http/ClientHop.js"
import type { ErrorBody } from "../../../shared/http/Errors.js"
import { headerValue, makeFrontLane } from "../../../shared/http/Lane.js"
import { HttpFrontLane } from "../../../shared/http/Server.js"
import { parseErrorBody } from "../../../shared/http/Validation.js"
import { GatewayApi } from "../Api.js"
import { PublicLimits } from "../Limits.js"
import { trustedGeoRegion } from "../Region.js"
import { ScanHeaders, ScanRequest } from "./Api.js"
import { anonymousCaller, type ScanAnswer, type ScanCaller, type ScanError, Scans } from "./Scans.js"

const decodeRequest = Schema.decodeUnknownEither(ScanRequest)
const decodeHeaders = Schema.decodeUnknownEither(ScanHeaders)

/**
 * `POST /v1/scans`, the contract's `scans.scan`, served straight on node:http in front of the router (the
 * router's per-request overhead is most of a warm scan's cost). The lane is the route's only handler: the
 * router has no route for it (`ScansServedByLane`). Route, error statuses and bodies, body-size limit,
 * request id, headers and metrics come from shared/http (`makeFrontLane`, the same helpers as the router's
 * pipeline; statuses from the error classes' annotations in the contract). Per request: the body is read
 * and decoded with the contract's schemas; the bearer token, if any, is verified once (the same verifier
 * as the auth middleware) and serves both the rate limits and the scan; the public rate limits admit it
 * (per IP; per client for a token or API key); `Scans.scan` answers. A malformed request still passes
 * the limits first: garbage is no way around them. Anonymous and signed-in scans are admitted in the
 * scan's own first Redis round trip (a token names its user's bucket without a lookup); a device key is
 * looked up in identity and admitted before the scan.
 */
export const ScanLaneLive = Layer.effect(
  HttpFrontLane,
  Effect.gen(function* () {
    const scans = yield* Scans
    const limits = yield* PublicLimits
    const tokens = yield* Tokens
    const config = yield* AppConfig
    const lane = yield* makeFrontLane(GatewayApi, "scans", "scan")
    const run = Runtime.runPromiseExit(yield* Effect.runtime<never>())
    const geoHeader = config.privacy.geoRegionHeader
    const path = lane.route.path

    /** the caller a bearer token names, or the 401 it earned (the auth middleware's verifier) */
    const verifyCaller = (authorization: string | undefined): Effect.Effect<ScanCaller> =>
      Effect.either(Effect.provideService(verifyBearer(authorization), Tokens, tokens))

    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const r = lane.begin(req)
      const ip = trustedClientHop(req, limits.trustedHops).address
      const apiKey = headerValue(req.headers["x-api-key"])
      const answer = (exit: Exit.Exit<ScanAnswer, ScanError>) =>
        Exit.isSuccess(exit)
          ? lane.sendJson(res, r, 200, exit.value.json, exit.value.bytes)
          : lane.failCause(res, r, exit.cause)
      const refuse = (status: number, body: ErrorBody) =>
        void run(limits.enforce(ip, headerValue(req.headers.authorization), apiKey, path)).then((exit) =>
          Exit.isFailure(exit) ? lane.failCause(res, r, exit.cause) : lane.sendError(res, r, status, body)
        )
      lane.readJson(req, refuse, (json) => {
        const body = decodeRequest(json, { errors: "all" })
        if (Either.isLeft(body)) return refuse(400, parseErrorBody(body.left))
        const headers = decodeHeaders(req.headers)
        if (Either.isLeft(headers)) return refuse(400, parseErrorBody(headers.left))
        const h = headers.right
        const input = {
          request: body.right,
          caller: anonymousCaller,
          idempotencyKey: h["idempotency-key"],
          geoRegion: trustedGeoRegion(req, limits.trustedHops, geoHeader),
          traceparent: h.traceparent
        }
        // anonymous: the scan admits it in its first round trip
        if (h.authorization === undefined && apiKey === undefined) {
          return void scans.scan(input, limits.anonymousRules(ip), r.t0).then(answer)
        }
        // a token names a client: verified once (at once when its signature was checked in the last minute),
        // its rules checked by the scan in its first round trip, as an anonymous scan's
        if (apiKey === undefined) {
          const scanAs = (caller: ScanCaller) => {
            const user = Either.isRight(caller) ? Option.getOrUndefined(caller.right) : undefined
            return scans.scan({ ...input, caller }, limits.userRules(ip, user), r.t0)
          }
          const known = verifyBearerNow(h.authorization)
          if (known !== undefined) return void scanAs(known).then(answer)
          return void run(verifyCaller(h.authorization))
            .then((exit) => (Exit.isSuccess(exit) ? scanAs(exit.value) : Exit.failCause(exit.cause)))
            .then(answer)
        }
        // a device key (with or without a token) is looked up in identity: admitted first, then scanned
        return void run(
          Effect.gen(function* () {
            const caller = yield* verifyCaller(h.authorization)
            const user = Option.getOrUndefined(Either.getOrElse(caller, () => Option.none()))
            yield* limits.admit(ip, user, apiKey, path)
            return yield* Effect.promise(() => scans.scan({ ...input, caller }, [], r.t0))
          }).pipe(Effect.flatten)
        ).then(answer)
      })
    }

    return (req, res) => {
      if (!lane.matches(req)) return false
      handle(req, res)
      return true
    }
  })
)

/**
 * The router's side of the scan group: no route. `HttpApiBuilder.api` asks a layer for every group of the
 * contract; this one adds none for `scans`, so `POST /v1/scans` has one handler, the lane above (a request
 * the lane did not claim would get the router's 404). Built on a one-group API of the same id and group
 * name: a group layer is known by those two names only.
 */
export const ScansServedByLane = HttpApiBuilder.group(
  HttpApi.make("gateway").add(HttpApiGroup.make("scans")),
  "scans",
  (h) => h
)
