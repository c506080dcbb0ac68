import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { Forbidden } from "../../shared/auth/Tokens.js"
import { Conflict, Expired, NotFound } from "./Errors.js"

/**
 * Ownership: claim codes, transfer offers and the append-only ownership_events, plus the one
 * column of `garments` identity writes (owner_user_id, with version/updated_at so caches see the
 * change). Every step is one transaction; rows are locked in one order — garment, then transfer —
 * so concurrent claims/offers/answers serialize instead of deadlocking. Two claims of one code:
 * the conditional UPDATE on the code lets exactly one through.
 */
export interface OwnershipChange {
  readonly garmentId: string
  readonly version: number
}

export const TransferRow = Schema.Struct({
  id: Schema.String,
  garment_id: Schema.String,
  from_user_id: Schema.NullOr(Schema.String),
  to_user_id: Schema.NullOr(Schema.String),
  status: Schema.Literal("pending", "accepted", "cancelled"),
  created_at: Schema.DateFromSelf,
  expires_at: Schema.DateFromSelf,
  decided_at: Schema.NullOr(Schema.DateFromSelf)
})
export type TransferRow = typeof TransferRow.Type

export interface OwnershipRepoShape {
  readonly garment: (
    garmentId: string
  ) => Effect.Effect<Option.Option<{ readonly brandId: string; readonly ownerUserId: string | null }>>
  readonly insertClaimCode: (
    codeHash: Uint8Array,
    garmentId: string,
    ttlSeconds: number
  ) => Effect.Effect<{ readonly expiresAt: Date }>
  readonly claim: (
    codeHash: Uint8Array,
    userId: string
  ) => Effect.Effect<OwnershipChange, NotFound | Conflict | Expired>
  readonly offerTransfer: (
    garmentId: string,
    fromUserId: string,
    toUserId: string,
    ttlSeconds: number
  ) => Effect.Effect<TransferRow, NotFound | Forbidden | Conflict>
  readonly acceptTransfer: (
    transferId: string,
    userId: string
  ) => Effect.Effect<OwnershipChange & { readonly transfer: TransferRow }, NotFound | Conflict | Expired>
  readonly cancelTransfer: (transferId: string, userId: string) => Effect.Effect<TransferRow, NotFound | Conflict>
}

export class OwnershipRepo extends Context.Tag("brandme/identity/OwnershipRepo")<OwnershipRepo, OwnershipRepoShape>() {}

const isUniqueViolation = (e: SqlError): boolean =>
  typeof e.cause === "object" && e.cause !== null && "code" in e.cause && e.cause.code === "23505"

const TRANSFER_COLUMNS =
  "id::text AS id, garment_id::text AS garment_id, from_user_id::text AS from_user_id, to_user_id::text AS to_user_id, status, created_at, expires_at, decided_at"

export const OwnershipRepoLive = Layer.effect(
  OwnershipRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const transfers = Schema.decodeUnknown(Schema.Array(TransferRow))
    const cols = sql.unsafe(TRANSFER_COLUMNS)
    /** domain failures roll the transaction back and pass through; SQL failures become defects */
    const tx = <A, E>(body: Effect.Effect<A, E, never>) =>
      Effect.catchIf(
        sql.withTransaction(body),
        (e): e is Extract<E | SqlError, SqlError> => e instanceof SqlError,
        (e) => Effect.die(e)
      )

    const lockGarment = (garmentId: string) =>
      Effect.map(
        sql<{ owner_user_id: string | null }>`
          SELECT owner_user_id::text AS owner_user_id FROM garments WHERE id = ${garmentId}::uuid FOR UPDATE`,
        (rows) => Option.fromNullable(rows[0])
      )

    const event = (garmentId: string, kind: string, from: string | null, to: string | null) =>
      sql`INSERT INTO ownership_events (garment_id, kind, from_user_id, to_user_id)
          VALUES (${garmentId}::uuid, ${kind}, ${from}, ${to})`

    const bumpOwner = (garmentId: string, to: string, expectedOwner: string | null) =>
      Effect.map(
        expectedOwner === null
          ? sql<{ version: number }>`
              UPDATE garments SET owner_user_id = ${to}::uuid, version = version + 1, updated_at = now()
              WHERE id = ${garmentId}::uuid AND owner_user_id IS NULL RETURNING version`
          : sql<{ version: number }>`
              UPDATE garments SET owner_user_id = ${to}::uuid, version = version + 1, updated_at = now()
              WHERE id = ${garmentId}::uuid AND owner_user_id = ${expectedOwner}::uuid RETURNING version`,
        (rows) => Option.fromNullable(rows[0]?.version)
      )

    /** Locks the garment, then the transfer (the global lock order). */
    const lockTransfer = (transferId: string) =>
      Effect.gen(function* () {
        const [peek] = yield* sql<{ garment_id: string }>`
          SELECT garment_id::text AS garment_id FROM ownership_transfers WHERE id = ${transferId}::uuid`
        if (peek === undefined) return Option.none()
        yield* lockGarment(peek.garment_id)
        const rows = yield* sql`SELECT ${cols} FROM ownership_transfers WHERE id = ${transferId}::uuid FOR UPDATE`.pipe(
          Effect.flatMap(transfers),
          Effect.orDie
        )
        return Option.fromNullable(rows[0])
      })

    const decide = (id: string, status: "accepted" | "cancelled") =>
      sql`UPDATE ownership_transfers SET status = ${status}, decided_at = now() WHERE id = ${id}::uuid RETURNING ${cols}`.pipe(
        Effect.flatMap(transfers),
        Effect.orDie,
        Effect.map((rows) => rows[0]!)
      )

    return OwnershipRepo.of({
      garment: (garmentId) =>
        sql<{ brand_id: string; owner_user_id: string | null }>`
          SELECT brand_id::text AS brand_id, owner_user_id::text AS owner_user_id FROM garments WHERE id = ${garmentId}::uuid`.pipe(
          Effect.map((rows) =>
            Option.map(Option.fromNullable(rows[0]), (r) => ({ brandId: r.brand_id, ownerUserId: r.owner_user_id }))
          ),
          Effect.orDie
        ),

      insertClaimCode: (hash, garmentId, ttl) =>
        sql<{ expires_at: Date }>`
          INSERT INTO claim_codes (code_hash, garment_id, expires_at)
          VALUES (${hash}, ${garmentId}::uuid, now() + make_interval(secs => ${ttl})) RETURNING expires_at`.pipe(
          Effect.map((rows) => ({ expiresAt: rows[0]!.expires_at })),
          Effect.orDie
        ),

      claim: (hash, userId) =>
        tx(
          Effect.gen(function* () {
            const [won] = yield* sql<{ garment_id: string }>`
              UPDATE claim_codes SET claimed_by = ${userId}::uuid, claimed_at = now()
              WHERE code_hash = ${hash} AND claimed_at IS NULL AND expires_at > now()
              RETURNING garment_id::text AS garment_id`
            if (won === undefined) {
              const [code] = yield* sql<{ claimed: boolean }>`
                SELECT claimed_at IS NOT NULL AS claimed FROM claim_codes WHERE code_hash = ${hash}`
              if (code === undefined) return yield* new NotFound({ message: "no such claim code" })
              return yield* code.claimed
                ? new Conflict({ message: "this claim code has already been used" })
                : new Expired({ message: "this claim code has expired" })
            }
            yield* lockGarment(won.garment_id)
            const version = yield* bumpOwner(won.garment_id, userId, null)
            if (Option.isNone(version)) {
              return yield* new Conflict({ message: "this garment already has an owner" })
            }
            // the garment's other unused codes die with the claim: a code must not outlive its purpose
            yield* sql`
              UPDATE claim_codes SET expires_at = now()
              WHERE garment_id = ${won.garment_id}::uuid AND claimed_at IS NULL AND expires_at > now()`
            yield* event(won.garment_id, "claimed", null, userId)
            return { garmentId: won.garment_id, version: version.value }
          })
        ),

      offerTransfer: (garmentId, from, to, ttl) =>
        tx(
          Effect.gen(function* () {
            const garment = yield* lockGarment(garmentId)
            if (Option.isNone(garment)) return yield* new NotFound({ message: `no garment ${garmentId}` })
            if (garment.value.owner_user_id !== from) {
              return yield* new Forbidden({ message: "only the garment's owner can offer a transfer" })
            }
            // an offer nobody answered in time no longer blocks a new one
            const stale = yield* sql<{ from_user_id: string | null; to_user_id: string | null }>`
              UPDATE ownership_transfers SET status = 'cancelled', decided_at = now()
              WHERE garment_id = ${garmentId}::uuid AND status = 'pending' AND expires_at <= now()
              RETURNING from_user_id::text AS from_user_id, to_user_id::text AS to_user_id`
            for (const s of stale) yield* event(garmentId, "transfer_cancelled", s.from_user_id, s.to_user_id)
            const rows = yield* sql`
              INSERT INTO ownership_transfers (garment_id, from_user_id, to_user_id, expires_at)
              VALUES (${garmentId}::uuid, ${from}::uuid, ${to}::uuid, now() + make_interval(secs => ${ttl}))
              RETURNING ${cols}`.pipe(
              Effect.catchTag(
                "SqlError",
                (e): Effect.Effect<never, Conflict | SqlError> =>
                  isUniqueViolation(e)
                    ? Effect.fail(new Conflict({ message: "a transfer of this garment is already pending" }))
                    : Effect.fail(e)
              ),
              Effect.flatMap((r) => Effect.orDie(transfers(r)))
            )
            yield* event(garmentId, "transfer_offered", from, to)
            return rows[0]!
          })
        ),

      acceptTransfer: (transferId, userId) =>
        tx(
          Effect.gen(function* () {
            const t = yield* lockTransfer(transferId)
            if (Option.isNone(t) || t.value.to_user_id !== userId) {
              return yield* new NotFound({ message: `no transfer ${transferId} offered to you` })
            }
            const offer = t.value
            if (offer.status !== "pending") return yield* new Conflict({ message: `this transfer is ${offer.status}` })
            if (offer.expires_at.getTime() <= Date.now())
              return yield* new Expired({ message: "this transfer offer has expired" })
            const version = yield* bumpOwner(offer.garment_id, userId, offer.from_user_id)
            if (Option.isNone(version)) {
              return yield* new Conflict({ message: "the offering user no longer owns this garment" })
            }
            const transfer = yield* decide(transferId, "accepted")
            yield* event(offer.garment_id, "transfer_accepted", offer.from_user_id, userId)
            return { garmentId: offer.garment_id, version: version.value, transfer }
          })
        ),

      cancelTransfer: (transferId, userId) =>
        tx(
          Effect.gen(function* () {
            const t = yield* lockTransfer(transferId)
            if (Option.isNone(t) || (t.value.from_user_id !== userId && t.value.to_user_id !== userId)) {
              return yield* new NotFound({ message: `no transfer ${transferId} of yours` })
            }
            if (t.value.status !== "pending")
              return yield* new Conflict({ message: `this transfer is ${t.value.status}` })
            const transfer = yield* decide(transferId, "cancelled")
            yield* event(t.value.garment_id, "transfer_cancelled", t.value.from_user_id, t.value.to_user_id)
            return transfer
          })
        )
    })
  })
)
