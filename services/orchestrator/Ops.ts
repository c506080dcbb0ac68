import { Effect, Schema } from "effect"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { AppConfig, callUrl } from "../../shared/config/AppConfig.js"
import { HealthReport } from "../../shared/http/Health.js"
import { Queues } from "../../shared/layers/Queues.js"
import { HealthPaths, ServiceNames } from "../../shared/ServiceCatalog.js"
import { DeadLetterNotFound, type OpsApi, OpsUnavailable } from "./Api.js"
import { listDeadLetters, replayDeadLetter } from "./DeadLetters.js"
import { queueTable } from "./QueueStats.js"

const HEALTH_TIMEOUT_MS = 3000
const decodeReport = Schema.decodeUnknownEither(HealthReport)

const admin = Effect.flatMap(CurrentPrincipal, (p: Principal) =>
  p.role === "admin" ? Effect.succeed(p) : Effect.fail(new Forbidden({ message: "operations are for admins" }))
)
const unavailable = (e: { readonly message: string }) => new OpsUnavailable({ message: e.message })

/** Where each service answers: `<NAME>_URL` (the gateway's declared calls), else this host at its port. */
const serviceUrls = Effect.map(AppConfig, (config) =>
  ServiceNames.map((name) => ({ service: name, url: callUrl(config, name) }))
)

const probe = (s: { readonly service: string; readonly url: string }) =>
  Effect.promise(async () => {
    const t0 = performance.now()
    try {
      const res = await fetch(`${s.url}${HealthPaths.health}`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
      const report = decodeReport(await res.json())
      const latencyMs = Math.round(performance.now() - t0)
      return report._tag === "Right"
        ? { ...s, status: report.right.status, latencyMs, error: null, report: report.right }
        : {
            ...s,
            status: "unhealthy" as const,
            latencyMs,
            error: `HTTP ${res.status}: not a health report`,
            report: null
          }
    } catch (e) {
      const latencyMs = Math.round(performance.now() - t0)
      return {
        ...s,
        status: "unreachable" as const,
        latencyMs,
        error: e instanceof Error ? e.message : String(e),
        report: null
      }
    }
  })

/**
 * The SRE page's API (admins): each service's /health with its dependencies' latencies, queue depths
 * (the same table `npm run queues -- status` prints), dead letters and their replay.
 */
export const opsHandlers = <E, Provides, R>(h: GroupHandlers<typeof OpsApi, E, Provides, R>) =>
  Effect.gen(function* () {
    const queues = yield* Queues
    const urls = yield* serviceUrls
    const withQueues = <A, Err, Req>(e: Effect.Effect<A, Err, Req>) => Effect.provideService(e, Queues, queues)
    return h
      .handle("services", () =>
        Effect.zipRight(
          admin,
          Effect.map(Effect.forEach(urls, probe, { concurrency: "unbounded" }), (services) => ({ services }))
        )
      )
      .handle("queues", () =>
        Effect.zipRight(
          admin,
          withQueues(queueTable).pipe(
            Effect.map((rows) => ({ queues: rows.map((r) => ({ ...r, workers: r.workers ?? null })) })),
            Effect.mapError(unavailable)
          )
        )
      )
      .handle("deadLetters", () =>
        Effect.zipRight(
          admin,
          withQueues(listDeadLetters(200)).pipe(
            Effect.map((deadLetters) => ({ deadLetters })),
            Effect.mapError(unavailable)
          )
        )
      )
      .handle("replay", ({ path }) =>
        Effect.zipRight(
          admin,
          withQueues(replayDeadLetter(path.id)).pipe(
            Effect.mapError(unavailable),
            Effect.flatMap((replayed) =>
              replayed
                ? Effect.succeed({ replayed })
                : Effect.fail(new DeadLetterNotFound({ message: `no dead letter ${path.id}` }))
            )
          )
        )
      )
  })
