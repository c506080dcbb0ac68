import { Effect } from "effect"
import type { Principal } from "../../shared/auth/Tokens.js"
import { importGarments, Knowledge } from "./Knowledge.js"

/** One garment import's outcome, as knowledge's `importGarments` reports an item. */
export interface GarmentImportResult {
  readonly ok: boolean
  readonly id?: string | undefined
  readonly error?: { readonly error: string; readonly message: string } | undefined
}

/**
 * What another service may ask of knowledge in-process (the orchestrator's jobs): warm a garment's cached
 * metadata (`knowledge:garment:<id>`, TTL 1 h; false when there is no such garment) and insert one garment,
 * validated and authorised as the principal who started the import. The rest of this folder is knowledge's
 * own; other services import this module, `Api.ts` or `Client.ts` only (services/Boundaries.test.ts).
 */
export class KnowledgePort extends Effect.Service<KnowledgePort>()("brandme/knowledge/Port", {
  dependencies: [Knowledge.Default],
  effect: Effect.gen(function* () {
    const knowledge = yield* Knowledge
    const context = yield* Effect.context<Knowledge>()
    return {
      warmGarment: (garmentId: string) =>
        knowledge.metadata(garmentId).pipe(
          Effect.as(true),
          Effect.catchTag("GarmentNotFound", () => Effect.succeed(false))
        ),
      importGarment: (principal: Principal, item: unknown) =>
        importGarments(principal, [item]).pipe(
          Effect.provide(context),
          Effect.map(
            (r): GarmentImportResult => r.results[0] ?? { ok: false, error: { error: "Empty", message: "no result" } }
          )
        )
    }
  })
}) {}
