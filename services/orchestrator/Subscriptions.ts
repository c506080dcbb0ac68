import { randomBytes } from "node:crypto"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Redacted, Schema } from "effect"
import { CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { type WebhookSubscription, WebhookInvalid, WebhookNotFound, type WebhooksApi } from "./Api.js"
import { sealWebhookSecret } from "./Webhooks.js"

const SubscriptionRow = Schema.Struct({
  id: Schema.String,
  brand_id: Schema.String,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  created_at: Schema.DateFromSelf,
  disabled_at: Schema.NullOr(Schema.DateFromSelf)
})
const DeliveryRow = Schema.Struct({
  id: Schema.String,
  delivery_id: Schema.String,
  event: Schema.String,
  attempt: Schema.Number,
  status: Schema.Number,
  ok: Schema.Boolean,
  error: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf
})
const subscriptions = Schema.decodeUnknown(Schema.Array(SubscriptionRow))

const toView = (r: typeof SubscriptionRow.Type): WebhookSubscription => ({
  id: r.id,
  brandId: r.brand_id,
  url: r.url,
  events: r.events,
  enabled: r.disabled_at === null,
  createdAt: r.created_at.toISOString()
})

const COLUMNS = "id::text AS id, brand_id::text AS brand_id, url, events, created_at, disabled_at"

const isForeignKeyViolation = (e: SqlError): boolean =>
  typeof e.cause === "object" && e.cause !== null && "code" in e.cause && e.cause.code === "23503"

/** A new subscription secret: 32 random bytes, base64url, with a prefix that says what it is. */
const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`

/**
 * A brand's webhook subscriptions (the notifications worker delivers to them, signed with their secret).
 * Brand staff manage their own brand's; admins any brand's. A subscription of another brand answers like
 * a missing one. The secret is shown once, at creation and rotation; only its sealed form is stored.
 */
export class WebhookSubscriptions extends Effect.Service<WebhookSubscriptions>()(
  "brandme/orchestrator/WebhookSubscriptions",
  {
    effect: Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const config = yield* AppConfig
      const seal = (secret: string) => sealWebhookSecret(Redacted.value(config.notifications.webhookSecret), secret)

      const scope = (p: Principal) =>
        p.role === "admin"
          ? Effect.succeed(sql`TRUE`)
          : p.role === "brand" && p.brandId !== null
            ? Effect.succeed(sql`brand_id = ${p.brandId}::uuid`)
            : Effect.fail(new Forbidden({ message: "webhook subscriptions are for brand staff and admins" }))

      const visible = (p: Principal, id: string) =>
        Effect.gen(function* () {
          const where = yield* scope(p)
          const [row] = yield* sql`SELECT ${sql.literal(COLUMNS)} FROM webhook_subscriptions
            WHERE id = ${id}::uuid AND ${where}`.pipe(Effect.flatMap(subscriptions), Effect.orDie)
          if (row === undefined) return yield* new WebhookNotFound({ message: `no webhook subscription ${id}` })
          return row
        })

      const list = (p: Principal, brandId: string | undefined) =>
        Effect.gen(function* () {
          if (p.role === "brand" && brandId !== undefined && brandId !== p.brandId) {
            return yield* new Forbidden({ message: "brand staff see only their own brand's subscriptions" })
          }
          const where = yield* scope(p)
          const byBrand = brandId === undefined ? sql`TRUE` : sql`brand_id = ${brandId}::uuid`
          const rows = yield* sql`SELECT ${sql.literal(COLUMNS)} FROM webhook_subscriptions
            WHERE ${where} AND ${byBrand} ORDER BY created_at DESC, id`.pipe(
            Effect.flatMap(subscriptions),
            Effect.orDie
          )
          return { subscriptions: rows.map(toView) }
        }).pipe(Effect.withSpan("WebhookSubscriptions.list"))

      const create = (
        p: Principal,
        input: {
          readonly url: string
          readonly events: ReadonlyArray<string>
          readonly brandId?: string | undefined
        }
      ) =>
        Effect.gen(function* () {
          yield* scope(p)
          if (p.role === "brand" && input.brandId !== undefined && input.brandId !== p.brandId) {
            return yield* new Forbidden({ message: "brand staff subscribe only for their own brand" })
          }
          const brandId = p.role === "brand" ? p.brandId : (input.brandId ?? null)
          if (brandId === null) return yield* new WebhookInvalid({ message: "brandId: is required for admins" })
          const secret = newSecret()
          const [row] = yield* sql`
            INSERT INTO webhook_subscriptions (brand_id, url, events, secret_sealed)
            VALUES (${brandId}::uuid, ${input.url}, ${[...new Set(input.events)]}, ${seal(secret)})
            RETURNING ${sql.literal(COLUMNS)}`.pipe(
            Effect.catchTag("SqlError", (e) =>
              isForeignKeyViolation(e)
                ? Effect.fail(new WebhookInvalid({ message: `brandId: no brand ${brandId}` }))
                : Effect.die(e)
            ),
            Effect.flatMap((rows) => Effect.orDie(subscriptions(rows)))
          )
          return { subscription: toView(row!), secret }
        }).pipe(Effect.withSpan("WebhookSubscriptions.create"))

      const update = (
        p: Principal,
        id: string,
        input: {
          readonly url?: string | undefined
          readonly events?: ReadonlyArray<string> | undefined
          readonly enabled?: boolean | undefined
        }
      ) =>
        Effect.gen(function* () {
          const current = yield* visible(p, id)
          const disabled =
            input.enabled === undefined
              ? sql`disabled_at`
              : input.enabled
                ? sql`NULL`
                : sql`coalesce(disabled_at, now())`
          const [row] = yield* sql`
            UPDATE webhook_subscriptions SET url = ${input.url ?? current.url},
                   events = ${[...new Set(input.events ?? current.events)]}, disabled_at = ${disabled}
            WHERE id = ${id}::uuid RETURNING ${sql.literal(COLUMNS)}`.pipe(Effect.flatMap(subscriptions), Effect.orDie)
          if (row === undefined) return yield* new WebhookNotFound({ message: `no webhook subscription ${id}` })
          return toView(row)
        }).pipe(Effect.withSpan("WebhookSubscriptions.update"))

      const remove = (p: Principal, id: string) =>
        Effect.gen(function* () {
          yield* visible(p, id)
          yield* sql`DELETE FROM webhook_subscriptions WHERE id = ${id}::uuid`.pipe(Effect.orDie)
        }).pipe(Effect.withSpan("WebhookSubscriptions.remove"))

      const rotate = (p: Principal, id: string) =>
        Effect.gen(function* () {
          yield* visible(p, id)
          const secret = newSecret()
          const [row] = yield* sql`
            UPDATE webhook_subscriptions SET secret_sealed = ${seal(secret)}
            WHERE id = ${id}::uuid RETURNING ${sql.literal(COLUMNS)}`.pipe(Effect.flatMap(subscriptions), Effect.orDie)
          if (row === undefined) return yield* new WebhookNotFound({ message: `no webhook subscription ${id}` })
          return { subscription: toView(row), secret }
        }).pipe(Effect.withSpan("WebhookSubscriptions.rotate"))

      const deliveries = (p: Principal, id: string) =>
        Effect.gen(function* () {
          yield* visible(p, id)
          const rows = yield* sql`
            SELECT id::text AS id, delivery_id, event, attempt, status, ok, error, created_at
            FROM webhook_deliveries WHERE subscription_id = ${id}::uuid ORDER BY id DESC LIMIT 100`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(DeliveryRow))),
            Effect.orDie
          )
          return {
            deliveries: rows.map((r) => ({
              id: r.id,
              deliveryId: r.delivery_id,
              event: r.event,
              attempt: r.attempt,
              status: r.status,
              ok: r.ok,
              error: r.error,
              createdAt: r.created_at.toISOString()
            }))
          }
        }).pipe(Effect.withSpan("WebhookSubscriptions.deliveries"))

      return { list, create, update, remove, rotate, deliveries } as const
    })
  }
) {}

export const webhooksHandlers = <E, Provides, R>(h: GroupHandlers<typeof WebhooksApi, E, Provides, R>) =>
  Effect.map(WebhookSubscriptions, (subs) =>
    h
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentPrincipal, (p) => subs.list(p, urlParams.brandId)))
      .handle("create", ({ payload }) => Effect.flatMap(CurrentPrincipal, (p) => subs.create(p, payload)))
      .handle("update", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => subs.update(p, path.id, payload))
      )
      .handle("remove", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => subs.remove(p, path.id)))
      .handle("rotate", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => subs.rotate(p, path.id)))
      .handle("deliveries", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => subs.deliveries(p, path.id)))
  )
