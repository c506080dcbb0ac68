import { Effect } from "effect"
import type { Intent } from "../../shared/domain/Scan.js"
import { IntentNotAllowed, type IntentRequest } from "./Api.js"
import { resolveIntent } from "./Rules.js"

/** Brain: resolves the intent of a scan from who scans and what they ask (see Rules.ts). */
export class Brain extends Effect.Service<Brain>()("brandme/Brain", {
  succeed: {
    resolveIntent: (req: IntentRequest): Effect.Effect<Intent, IntentNotAllowed> => {
      const out = resolveIntent(req, req.hint)
      return out.ok
        ? Effect.succeed(out.intent)
        : Effect.fail(
            new IntentNotAllowed({
              message: out.message,
              details: { intent: out.intent, role: req.role, relation: req.relation }
            })
          )
    }
  }
}) {}
