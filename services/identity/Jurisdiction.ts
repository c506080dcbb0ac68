import { randomUUID } from "node:crypto"
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import type { Principal } from "../../shared/auth/Tokens.js"
import { Queues } from "../../shared/layers/Queues.js"
import { Redis } from "../../shared/layers/Redis.js"
import { auditEntryJob } from "../orchestrator/Api.js"
import { ownerGenerationKey } from "../policy/Keys.js"
import { NotFound } from "./Errors.js"

/**
 * A person's jurisdiction (users.region_code: where they live, given at sign-up or here): the policy
 * applies the stricter of it and the scanner's region to their data. A change updates the row and
 * enqueues a `jurisdiction_changed` audit entry in one transaction (no change without its audit job),
 * then bumps the person's policy generation so no cached decision about their garments survives it.
 */
export class Jurisdiction extends Effect.Service<Jurisdiction>()("brandme/identity/Jurisdiction", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const queues = yield* Queues
    const redis = yield* Redis
    const update = SqlSchema.findOne({
      Request: Schema.Struct({ id: Schema.String, jurisdiction: Schema.NullOr(Schema.String) }),
      Result: Schema.Struct({ previous: Schema.NullOr(Schema.String) }),
      execute: (r) => sql`
        UPDATE users u SET region_code = ${r.jurisdiction}
        FROM (SELECT id, region_code FROM users WHERE id = ${r.id} AND erased_at IS NULL FOR UPDATE) old
        WHERE u.id = old.id
        RETURNING old.region_code AS previous`
    })

    const change = (p: Principal, jurisdiction: string | null) =>
      Effect.gen(function* () {
        const changedAt = new Date()
        const previous = yield* sql
          .withTransaction(
            Effect.gen(function* () {
              const row = yield* Effect.orDie(update({ id: p.userId, jurisdiction }))
              if (Option.isNone(row)) return Option.none<string | null>()
              const job = auditEntryJob({
                idempotencyKey: `jurisdiction_changed:${p.userId}:${randomUUID()}`,
                kind: "jurisdiction_changed",
                actor: { _tag: "Person", subjectId: p.userId, id: p.userId },
                subject: { _tag: "Person", subjectId: p.userId, id: p.userId },
                payload: { from: row.value.previous, to: jurisdiction },
                timeMs: changedAt.getTime()
              })
              yield* Effect.orDie(queues.add(job.queue, job.name, job.data, job.opts))
              return Option.some(row.value.previous)
            })
          )
          .pipe(Effect.orDie)
        if (Option.isNone(previous)) {
          return yield* new NotFound({ message: "no account holds this jurisdiction (erased)" })
        }
        // every cached decision about this person's garments is keyed by this generation: it must move
        const raw = yield* Effect.orDie(redis.cache)
        yield* Effect.orDie(Effect.promise(() => raw.incr(redis.key(ownerGenerationKey(p.userId)))))
        return { userId: p.userId, jurisdiction, previous: previous.value, changedAt }
      }).pipe(Effect.withSpan("Identity.changeJurisdiction"))

    return { change } as const
  })
}) {}
