import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Either, Layer } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { type DigitalLink, keyPath, parseDigitalLinkPath } from "../../shared/domain/Gs1DigitalLink.js"
import { errorResponse } from "../../shared/http/Errors.js"
import {
  acceptedLanguages,
  chooseLink,
  GS1_VOC,
  BRANDME_VOC,
  linkHeader,
  linksetOf,
  PASSPORT_LANGUAGES,
  PASSPORT_LINK_TYPE,
  passportLanguage,
  resolveLinks
} from "./LinkResolution.js"
import { Links } from "./Links.js"
import { GS1_LINK_TYPES } from "./LinksApi.js"
import { Passports, renderPassport } from "./Passport.js"
import { trustedGeoRegion } from "./Region.js"
import { anonymousCaller, type ScanAnswer, Scans } from "./scans/Scans.js"

/**
 * The GS1-conformant resolver (GS1 Digital Link 1.2, GS1-Conformant Resolver Standard): GET/HEAD on
 * `/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]` and on a compressed Digital Link at the root. A plain
 * request goes `307` to the brand's default link (in the language asked), or — without one — gets our
 * product passport page; `?linkType=` picks a link; `?linkType=all` or `Accept: application/linkset+json`
 * gets the RFC 9264 linkset; `Accept: application/json` gets the scan JSON. Every answer carries a `Link`
 * header. A GET naming an item (a serial) is one scan through `Scans.scan`, the operation behind
 * `POST /v1/scans`: role public, region from our ingress's geo header when it came through our trusted
 * hops — persisted, audited, and rate limited by the same guard as every public route. HEAD is a probe:
 * the same headers, no scan.
 */

const LINKSET_TYPE = "application/linkset+json"

/** `Accept` names a media type (a bare `*\/*` names none) */
const accepts = (accept: string | undefined, type: string) =>
  (accept ?? "").split(",").some((part) => part.split(";")[0]!.trim().toLowerCase() === type)

const problem = (message: string, problemName: string) =>
  errorResponse(400, { error: "InvalidDigitalLink", message, details: { problem: problemName } })
const notFound = (message: string) => errorResponse(404, { error: "NotFound", message })

/** what /.well-known/gs1resolver says about this resolver (GS1-Conformant Resolver Standard §5) */
const resolverDescription = (root: string) => ({
  name: "Brand.Me GS1 Digital Link resolver",
  resolverRoot: root,
  supportedPrimaryKeys: ["01"],
  supportedKeyQualifiers: { "01": ["22", "10", "21"] },
  supportedLinkType: [
    { namespace: GS1_VOC, prefix: "gs1:" },
    { namespace: BRANDME_VOC, prefix: "brandme:" }
  ],
  linkTypes: [...GS1_LINK_TYPES.map((t) => `gs1:${t}`), PASSPORT_LINK_TYPE],
  linkTypeDefaultCanBeAll: true,
  supportsCompressedLinks: true,
  linksetMediaType: LINKSET_TYPE,
  passportLanguages: PASSPORT_LANGUAGES,
  documentation: `${root}/docs`
})

export const ResolverRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const scans = yield* Scans
    const links = yield* Links
    const passports = yield* Passports
    const scheme = config.appEnv === "development" ? "http" : "https"
    const hops = config.http.trustedProxyHops
    const geoHeader = config.privacy.geoRegionHeader
    const rootOf = (req: HttpServerRequest.HttpServerRequest) => `${scheme}://${req.headers.host ?? "localhost"}`

    const resolve = (req: HttpServerRequest.HttpServerRequest, parsed: DigitalLink) =>
      Effect.gen(function* () {
        const { key, params } = parsed
        const anchor = `${rootOf(req)}${keyPath(key)}`
        const resolved = resolveLinks(yield* links.ofGtin(key.gtin), key)
        const item = key.serial !== null
        if (resolved.length === 0 && !(yield* links.knownGtin(key.gtin))) {
          return notFound(`no product with GTIN ${key.gtin} is known to this resolver`)
        }
        const linkset = linksetOf(anchor, resolved, item)
        const headers: Record<string, string> = {
          link: linkHeader(anchor, linkset),
          vary: "Accept, Accept-Language",
          "cache-control": "no-store",
          // the links are public: any page or app may read them (GS1 resolvers answer CORS to all)
          "access-control-allow-origin": "*",
          "access-control-expose-headers": "link, location, x-request-id, x-scan-id"
        }
        const languages = acceptedLanguages(req.headers["accept-language"])
        const linkType = params.linkType
        const accept = req.headers.accept
        const head = req.method === "HEAD"

        if (linkType === "all" || (linkType === undefined && accepts(accept, LINKSET_TYPE))) {
          if (item && !head) headers["x-scan-id"] = (yield* scanOf(req, anchor)).result().scanId
          return HttpServerResponse.unsafeJson(linkset, { status: 200, headers, contentType: LINKSET_TYPE })
        }
        const wanted =
          linkType === undefined || linkType === PASSPORT_LINK_TYPE
            ? undefined
            : chooseLink(resolved, linkType, languages)
        // GS1: a link type that is not available falls back to the default link
        const target =
          linkType === PASSPORT_LINK_TYPE ? undefined : (wanted ?? chooseLink(resolved, "gs1:defaultLink", languages))
        const wantsJson = accepts(accept, "application/json")
        if (target !== undefined && !(wantsJson && linkType === undefined && item)) {
          if (item && !head) headers["x-scan-id"] = (yield* scanOf(req, anchor)).result().scanId
          return HttpServerResponse.empty({ status: 307, headers: { ...headers, location: target.target } })
        }
        if (!item) {
          return notFound(
            `GTIN ${key.gtin} has no default link: add /21/<serial> for an item's passport, or ?linkType=all for its links`
          )
        }
        // the passport: the scan JSON for apps, the page for browsers
        if (head) {
          return HttpServerResponse.empty({
            status: 200,
            headers: { ...headers, "content-type": wantsJson ? "application/json" : "text/html; charset=utf-8" }
          })
        }
        const answer = yield* scanOf(req, anchor)
        const scan = answer.result()
        headers["x-scan-id"] = scan.scanId
        if (wantsJson)
          return HttpServerResponse.text(answer.json, { status: 200, headers, contentType: "application/json" })
        const lang = passportLanguage(languages)
        const context = yield* passports.context(scan, anchor)
        const page = renderPassport({ scan, anchor, lang, links: resolved, ...context })
        return HttpServerResponse.text(page.html, {
          status: 200,
          contentType: "text/html; charset=utf-8",
          headers: { ...headers, "content-language": lang, "content-security-policy": page.csp }
        })
      })

    /** one scan, through the very operation POST /v1/scans runs: public, the edge's region */
    const scanOf = (
      req: HttpServerRequest.HttpServerRequest,
      anchor: string
    ): Effect.Effect<ScanAnswer, ResolveFailure> =>
      Effect.promise(() =>
        // rate limited already, by the router's guard (the same public limits as every route)
        scans.scan(
          {
            request: { tag: anchor },
            caller: anonymousCaller,
            idempotencyKey: undefined,
            geoRegion: trustedGeoRegion(req, hops, geoHeader),
            traceparent: req.headers.traceparent
          },
          []
        )
      ).pipe(
        Effect.flatten,
        Effect.mapError((e) =>
          e._tag === "GarmentNotFound"
            ? new ResolveFailure(404, "NotFound", `no item with this GTIN and serial is known to this resolver`)
            : e._tag === "InvalidTag"
              ? new ResolveFailure(400, "InvalidDigitalLink", e.message)
              : e._tag === "QueueUnavailable"
                ? new ResolveFailure(503, e._tag, e.message)
                : e._tag === "UpstreamError"
                  ? new ResolveFailure(502, e._tag, e.message)
                  : new ResolveFailure(403, e._tag, e.message)
        )
      )

    const handle = (path: string) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (req) => {
        const query = req.url.includes("?") ? req.url.slice(req.url.indexOf("?") + 1) : ""
        const parsed = parseDigitalLinkPath(path, query)
        if (Either.isLeft(parsed)) return Effect.succeed(problem(parsed.left.message, parsed.left.problem))
        return resolve(req, parsed.right).pipe(
          Effect.catchTag("ResolveFailure", (f) =>
            Effect.succeed(errorResponse(f.status, { error: f.error, message: f.message }))
          )
        )
      })
    const rawPath = Effect.map(HttpServerRequest.HttpServerRequest, (req) => req.url.split("?")[0] ?? "/")
    const uncompressed = Effect.flatMap(rawPath, handle)
    // a single root segment: a compressed Digital Link when it is base64url, else no route of ours
    const compressed = Effect.flatMap(rawPath, (path) =>
      /^\/[A-Za-z0-9_-]{10,}$/.test(path) ? handle(path) : Effect.succeed(notFound(`no route for ${path}`))
    )
    const wellKnown = Effect.map(HttpServerRequest.HttpServerRequest, (req) =>
      HttpServerResponse.unsafeJson(resolverDescription(rootOf(req)), {
        headers: { "access-control-allow-origin": "*", "cache-control": "public, max-age=3600" }
      })
    )
    yield* router.get("/01/*", uncompressed)
    yield* router.head("/01/*", uncompressed)
    yield* router.get("/:compressed", compressed)
    yield* router.head("/:compressed", compressed)
    yield* router.get("/.well-known/gs1resolver", wellKnown)
  })
)

class ResolveFailure {
  readonly _tag = "ResolveFailure"
  constructor(
    readonly status: number,
    readonly error: string,
    readonly message: string
  ) {}
}

/** the resolver with its services (the Scans instance is the gateway's own: Http.ts passes it in) */
export const resolverRoutes = <E, R>(scans: Layer.Layer<Scans, E, R>) =>
  ResolverRoutesLive.pipe(Layer.provide(Layer.mergeAll(scans, Links.Default, Passports.Default)))
