import { Effect } from "effect"
import { AppConfig, type CrashPoint } from "../../shared/config/AppConfig.js"

/**
 * Test-only crash injection: with `TEST_CRASH_POINT=<point>` (refused outside development) the process
 * SIGKILLs itself when it reaches that point — no cleanup, no finalizers, as a node dying would. Unset, it
 * costs one comparison.
 */
export const crashPoint = (point: CrashPoint) =>
  Effect.flatMap(AppConfig, (c) =>
    c.testing.crashPoint._tag === "Some" && c.testing.crashPoint.value === point
      ? Effect.sync(() => process.kill(process.pid, "SIGKILL"))
      : Effect.void
  )
