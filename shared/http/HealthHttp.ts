import type * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import { Effect } from "effect"
import { Health, type HealthApi, NotReady, NotStarted, Unhealthy, failingRequired } from "./Health.js"

/**
 * The health group's handlers. Every service's Http.ts mounts them with
 * `HttpApiBuilder.group(Api, "health", healthHandlers)`.
 */
export const healthHandlers = <E, Provides, R>(
  h: HttpApiBuilder.Handlers<E, Provides, R, HttpApiGroup.HttpApiGroup.Endpoints<HealthApi>>
) =>
  Effect.gen(function* () {
    const health = yield* Health
    return h
      .handle("health", () =>
        Effect.flatMap(health.report, (report) =>
          report.status === "unhealthy"
            ? Effect.fail(
                new Unhealthy({
                  message: `unhealthy: ${failingRequired(report).join(", ")} down`,
                  details: report
                })
              )
            : Effect.succeed(report)
        )
      )
      .handle("live", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        Effect.gen(function* () {
          const report = yield* health.report
          const failing = failingRequired(report)
          if (yield* health.stopping) {
            return yield* new NotReady({ message: "not ready: shutting down", details: { failing, report } })
          }
          if (failing.length > 0) {
            return yield* new NotReady({
              message: `not ready: ${failing.map((f) => `${f} is down`).join(", ")}`,
              details: { failing, report }
            })
          }
          return report
        })
      )
      .handle("startup", () =>
        Effect.flatMap(health.started, (started) =>
          started ? Effect.succeed({ status: "ok" as const }) : Effect.fail(new NotStarted({ message: "starting" }))
        )
      )
      .handle("healthz", () => Effect.succeed("ok"))
  })
