import { Effect } from "effect"
import { AppConfig } from "../shared/config/AppConfig.js"
import { runProcess } from "../shared/runtime/Process.js"
import { parseServiceSelection, startServices } from "./Platform.js"

/** One image, one entry: `SERVICE=<name>` runs one service; `SERVICE=all` runs every service in one process. */
const program = Effect.scoped(
  Effect.gen(function* () {
    const selection = (yield* AppConfig).service
    const names = yield* parseServiceSelection(selection)
    const urls = yield* startServices(names, `brandme-${selection === "all" ? "all" : names.join("+")}`)
    for (const u of urls) yield* Effect.logInfo(`${u.service} ready on ${u.url}`)
    return yield* Effect.never
  })
)

runProcess("brandme", program)
