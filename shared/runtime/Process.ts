// the module, not the package index: the index loads @effect/cluster, rpc and workflow too
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.js"
import { makeConfigProvider } from "../config/EnvFile.js"
import { makeJsonLogger } from "../telemetry/Logging.js"
import { heapTrimInBackground } from "./HeapTrim.js"
import { rootAbove } from "./ProjectRoot.js"

/** The repository root (where the `.env.*` files live), from source or from the compiled build. */
export const projectRoot = (): string => rootAbove(import.meta.url)

const levels: Record<AppConfigShape["logLevel"], LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

/** JSON log lines (with trace ids, redacted) everywhere except interactive development; level from LOG_LEVEL. */
export const loggerFor = (c: AppConfigShape, processName: string) =>
  Layer.merge(
    c.appEnv === "development" && process.env.LOG_FORMAT !== "json"
      ? Logger.replace(Logger.defaultLogger, Logger.logfmtLogger)
      : Logger.replace(Logger.defaultLogger, makeJsonLogger(processName)),
    Logger.minimumLogLevel(levels[c.logLevel])
  )

/**
 * Runs a program with the process's configuration (environment variables over `.env.<APP_ENV>`).
 * A configuration problem ends the process with exit 1 and one readable message — never a stack trace.
 */
export const runProcess = <E, A>(name: string, program: Effect.Effect<A, E, AppConfig>): void => {
  const loaded = makeConfigProvider(process.env, projectRoot())
  if (Either.isLeft(loaded)) {
    process.stderr.write(
      `${name}: configuration error: ${loaded.left.file}:${loaded.left.line}: ${loaded.left.message}\n`
    )
    process.exit(1)
  }
  const { provider } = loaded.right
  const main = Effect.gen(function* () {
    const config = yield* AppConfig.load.pipe(
      Effect.catchTags({
        InsecureConfiguration: (e) => Effect.die(new StartupError(e.message)),
        ConfigError: (e) => Effect.die(new StartupError(`invalid configuration: ${String(e)}`))
      })
    )
    // a process that has not drained SHUTDOWN_GRACE_MS + 5 s after SIGTERM stops anyway, before Kubernetes'
    // terminationGracePeriodSeconds (grace + 10 s) or compose's stop_grace_period would SIGKILL it, and says so
    process.once("SIGTERM", () => {
      setTimeout(() => {
        process.stderr.write(
          `${name}: still draining ${config.http.shutdownGraceMs + 5000} ms after SIGTERM; exiting\n`
        )
        process.exit(1)
      }, config.http.shutdownGraceMs + 5000).unref()
    })
    // the idle heap trim lives as long as the program (shared/runtime/HeapTrim.ts)
    const withTrim = Effect.scoped(Effect.zipRight(heapTrimInBackground(config.runtime.heapTrimIntervalMs), program))
    return yield* withTrim.pipe(Effect.provide(Layer.merge(AppConfig.layerWith(config), loggerFor(config, name))))
  }).pipe(Effect.withConfigProvider(provider))
  NodeRuntime.runMain(main, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => {
      if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
        const startup = [...Cause.defects(exit.cause)].find((d) => d instanceof StartupError)
        process.stderr.write(
          startup !== undefined ? `${name}: ${startup.message}\n` : `${name} failed:\n${Cause.pretty(exit.cause)}\n`
        )
        onExit(1)
        return
      }
      onExit(0)
    }
  })
}

/** A problem that must stop the process at start with a plain message. */
export class StartupError {
  readonly _tag = "StartupError"
  constructor(readonly message: string) {}
}
