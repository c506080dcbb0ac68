import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { CheckpointView, ConsistencyView, EntryView } from "../compliance/Api.js"
import { LoginRequest } from "../identity/Api.js"

const index = HttpApiSchema.param("index", Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()))
const Size = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** An upstream API (gateway, compliance, chain) could not be reached; the pages show this message. */
export class AuditUpstreamUnavailable extends Schema.TaggedError<AuditUpstreamUnavailable>()(
  "AuditUpstreamUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {}

/**
 * The auditor page and its same-origin proxy: the page's script calls /v1/audit/* on the console, which forwards
 * each call (with the caller's Authorization header) to the compliance API and returns its answer unchanged;
 * the compliance service checks the auditor role. Inputs are validated here too, so bad ones never leave.
 */
export const AuditorApi = HttpApiGroup.make("auditor")
  .add(HttpApiEndpoint.get("page", "/auditor").addSuccess(HttpApiSchema.Text({ contentType: "text/html" })))
  .add(
    HttpApiEndpoint.get("script", "/auditor.js").addSuccess(
      HttpApiSchema.Text({ contentType: "text/javascript; charset=utf-8" })
    )
  )
  .add(HttpApiEndpoint.get("checkpoint", "/v1/audit/checkpoint").addSuccess(CheckpointView))
  .add(HttpApiEndpoint.get("entry")`/v1/audit/entries/${index}`.addSuccess(EntryView))
  .add(
    HttpApiEndpoint.get("consistency", "/v1/audit/consistency")
      .setUrlParams(Schema.Struct({ from: Size, to: Size }))
      .addSuccess(ConsistencyView)
  )
  .addError(AuditUpstreamUnavailable)

const Text = (contentType: string) => HttpApiSchema.Text({ contentType })
const Proxied = Schema.Unknown.annotations({ description: "the upstream API's answer, unchanged" })

/**
 * The console app: `/` is the single-page app (its script /app.js, its styles /app.css). Sign-in posts to
 * /api/session, which signs in through identity (on the gateway) and keeps the token in an httpOnly,
 * SameSite=Strict cookie the page's script never sees; /api/* is forwarded to the gateway (/api/v1/audit/*
 * to compliance, /api/v1/chain/* to chain) with that token as the Bearer. Sign-out revokes the session.
 * Writes must carry `x-brandme-console: 1` (a header a cross-site form cannot send).
 */
export const AppApi = HttpApiGroup.make("app")
  .add(HttpApiEndpoint.get("index", "/").addSuccess(Text("text/html")))
  .add(HttpApiEndpoint.get("script", "/app.js").addSuccess(Text("text/javascript; charset=utf-8")))
  .add(HttpApiEndpoint.get("styles", "/app.css").addSuccess(Text("text/css; charset=utf-8")))
  .add(HttpApiEndpoint.get("session", "/api/session").addSuccess(Proxied))
  .add(HttpApiEndpoint.post("signIn", "/api/session").setPayload(LoginRequest).addSuccess(Proxied))
  .add(HttpApiEndpoint.del("signOut", "/api/session").addSuccess(HttpApiSchema.NoContent))
  .add(HttpApiEndpoint.get("get", "/api/*").addSuccess(Proxied))
  .add(HttpApiEndpoint.post("post", "/api/*").addSuccess(Proxied))
  .add(HttpApiEndpoint.put("put", "/api/*").addSuccess(Proxied))
  .add(HttpApiEndpoint.patch("patch", "/api/*").addSuccess(Proxied))
  .add(HttpApiEndpoint.del("del", "/api/*").addSuccess(Proxied))
  .addError(AuditUpstreamUnavailable)

/** The console service's HTTP contract. */
export const ConsoleApi = HttpApi.make("console")
  .add(HealthApi)
  .add(AuditorApi)
  .add(AppApi)
  .annotate(OpenApi.Title, "Brand.Me console")
  .annotate(OpenApi.Description, Services.console.description)
