import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Layer } from "effect"
import { TokensLive } from "../../shared/auth/Tokens.js"
import { healthHandlers } from "../../shared/http/HealthHttp.js"
import { serveService } from "../../shared/http/Server.js"
import { AuthenticationLive, CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { requireRole } from "../identity/Authenticate.js"
import { ComplianceApi } from "./Api.js"
import { AuditLog } from "./AuditLog.js"
import { Escalations, escalationsHandlers } from "./Escalations.js"
import { AuditLogLive } from "./Live.js"

/** the escalations group's handlers and service, which the gateway also serves */
export { Escalations, escalationsHandlers }

const auditor = Effect.flatMap(CurrentPrincipal, (p) => requireRole(p, ["auditor", "admin"], "reading the audit log"))

const AuditLive = HttpApiBuilder.group(ComplianceApi, "audit", (h) =>
  Effect.map(AuditLog, (log) =>
    h
      .handle("checkpoint", () => Effect.zipRight(auditor, log.checkpointView))
      .handle("entry", ({ path }) => Effect.zipRight(auditor, log.entryView(path.index)))
      .handle("consistency", ({ urlParams }) =>
        Effect.zipRight(auditor, log.consistencyView(urlParams.from, urlParams.to))
      )
  )
)

export const ComplianceHttpLive = serveService(
  "compliance",
  ComplianceApi,
  Layer.mergeAll(
    HttpApiBuilder.group(ComplianceApi, "health", healthHandlers),
    AuditLive.pipe(Layer.provide(AuditLogLive)),
    HttpApiBuilder.group(ComplianceApi, "escalations", escalationsHandlers).pipe(Layer.provide(Escalations.Default))
  ).pipe(Layer.provide(AuthenticationLive), Layer.provide(TokensLive))
)
