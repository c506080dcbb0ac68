import { SqlClient } from "@effect/sql"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { Effect, Schema } from "effect"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { type CursorKey, DEFAULT_PAGE, pageOf } from "../../shared/http/Paging.js"
import { CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { type Escalation, EscalationConflict, EscalationNotFound, type EscalationsApi } from "./Api.js"

const Row = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  severity: Schema.Literal("info", "warning", "critical"),
  subject: Schema.String,
  garment_id: Schema.NullOr(Schema.String),
  brand_id: Schema.NullOr(Schema.String),
  details: Schema.Unknown,
  status: Schema.Literal("open", "acknowledged", "resolved"),
  created_at: Schema.DateFromSelf,
  acknowledged_at: Schema.NullOr(Schema.DateFromSelf),
  acknowledged_by: Schema.NullOr(Schema.String),
  ack_note: Schema.NullOr(Schema.String)
})
const rows = Schema.decodeUnknown(Schema.Array(Row))

const toView = (r: typeof Row.Type): Escalation => ({
  id: r.id,
  kind: r.kind,
  severity: r.severity,
  subject: r.subject,
  garmentId: r.garment_id,
  brandId: r.brand_id,
  details: r.details,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
  acknowledgedBy: r.acknowledged_by,
  note: r.ack_note
})

const SELECT = `SELECT e.id::text AS id, e.kind, e.severity, e.subject, e.garment_id::text AS garment_id,
  g.brand_id::text AS brand_id, e.details, e.status, e.created_at, e.acknowledged_at,
  e.acknowledged_by::text AS acknowledged_by, e.ack_note
  FROM escalations e LEFT JOIN garments g ON g.id = e.garment_id`

/**
 * Escalations for the console. Admins and auditors read all; brand staff read those about their brand's
 * garments (a platform-wide escalation, with no garment, is not theirs). Admins and the garment's brand
 * acknowledge, with a note; auditors only read.
 */
export class Escalations extends Effect.Service<Escalations>()("brandme/compliance/Escalations", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const scope = (p: Principal) =>
      p.role === "admin" || p.role === "auditor"
        ? Effect.succeed(sql`TRUE`)
        : p.role === "brand" && p.brandId !== null
          ? Effect.succeed(sql`g.brand_id = ${p.brandId}::uuid`)
          : Effect.fail(new Forbidden({ message: "escalations are for brand staff, auditors and admins" }))

    const list = (
      p: Principal,
      params: {
        readonly status?: "open" | "acknowledged" | "resolved" | undefined
        readonly cursor?: CursorKey | undefined
        readonly limit?: number | undefined
      }
    ) =>
      Effect.gen(function* () {
        const limit = params.limit ?? DEFAULT_PAGE
        const where = [
          yield* scope(p),
          params.status === undefined ? sql`TRUE` : sql`e.status = ${params.status}`,
          params.cursor === undefined
            ? sql`TRUE`
            : sql`(e.created_at, e.id) < (${params.cursor.at}, ${params.cursor.id}::uuid)`
        ]
        const found = yield* sql`${sql.literal(SELECT)} WHERE ${sql.and(where)}
          ORDER BY e.created_at DESC, e.id DESC LIMIT ${limit + 1}`.pipe(Effect.flatMap(rows), Effect.orDie)
        const page = pageOf(found, limit, (r) => ({ at: r.created_at, id: r.id }))
        return { escalations: page.items.map(toView), nextCursor: page.nextCursor }
      }).pipe(Effect.withSpan("Escalations.list"))

    const acknowledge = (p: Principal, id: string, note: string) =>
      Effect.gen(function* () {
        if (p.role !== "admin" && p.role !== "brand") {
          return yield* new Forbidden({ message: "only the garment's brand and admins acknowledge escalations" })
        }
        const visible = yield* scope(p)
        const [current] = yield* sql`${sql.literal(SELECT)} WHERE e.id = ${id}::uuid AND ${visible}`.pipe(
          Effect.flatMap(rows),
          Effect.orDie
        )
        // another brand's escalation answers like a missing one
        if (current === undefined) return yield* new EscalationNotFound({ message: `no escalation ${id}` })
        if (current.status !== "open") {
          return yield* new EscalationConflict({ message: `escalation ${id} is already ${current.status}` })
        }
        const updated = yield* sql`
          UPDATE escalations SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = ${p.userId}::uuid,
                 ack_note = ${note}
          WHERE id = ${id}::uuid AND status = 'open' RETURNING id`.pipe(Effect.orDie)
        if (updated.length === 0) {
          return yield* new EscalationConflict({ message: `escalation ${id} was acknowledged meanwhile` })
        }
        const [after] = yield* sql`${sql.literal(SELECT)} WHERE e.id = ${id}::uuid`.pipe(
          Effect.flatMap(rows),
          Effect.orDie
        )
        return toView(after ?? current)
      }).pipe(Effect.withSpan("Escalations.acknowledge"))

    return { list, acknowledge } as const
  })
}) {}

/** The escalations group's handlers: compliance serves them and the gateway mounts the same group. */
export const escalationsHandlers = <E, Provides, R>(h: GroupHandlers<typeof EscalationsApi, E, Provides, R>) =>
  Effect.map(Escalations, (esc) =>
    h
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentPrincipal, (p) => esc.list(p, urlParams)))
      .handle("acknowledge", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => esc.acknowledge(p, path.id, payload.note))
      )
  )
