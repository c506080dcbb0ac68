import { SqlClient } from "@effect/sql"
import { Effect, Option, Redacted, Schema } from "effect"
import { Forbidden, type Principal, sessionKey } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { masterKeyBytes, open, unwrapSubjectKey } from "../../shared/crypto/Pii.js"
import { type CursorKey, DEFAULT_PAGE, pageOf } from "../../shared/http/Paging.js"
import { Redis } from "../../shared/layers/Redis.js"
import type { Account } from "./Api.js"
import { Conflict, InvalidRequest, NotFound } from "./Errors.js"
import { Identity } from "./Identity.js"
import { IdentityRepo, isUniqueViolation, UserRole } from "./Repo.js"
import { TransferRow } from "./OwnershipRepo.js"
import { transferView } from "./Ownership.js"

const AccountRow = Schema.Struct({
  id: Schema.String,
  role: UserRole,
  brand_id: Schema.NullOr(Schema.String),
  email_sealed: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  display_name_sealed: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  key: Schema.NullOr(Schema.Uint8ArrayFromSelf),
  created_at: Schema.DateFromSelf
})
const BrandRow = Schema.Struct({
  id: Schema.String,
  slug: Schema.String,
  name: Schema.String,
  gs1_company_prefix: Schema.NullOr(Schema.String),
  staff: Schema.Number,
  garments: Schema.Number,
  created_at: Schema.DateFromSelf
})
const NotificationRow = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  payload: Schema.Unknown,
  created_at: Schema.DateFromSelf,
  read_at: Schema.NullOr(Schema.DateFromSelf)
})
const TransferListingRow = Schema.Struct({
  ...TransferRow.fields,
  garment_name: Schema.NullOr(Schema.String)
})

const ACCOUNT_SELECT = `SELECT u.id::text AS id, u.role, u.brand_id::text AS brand_id, u.email_sealed,
  u.display_name_sealed, k.key, u.created_at FROM users u LEFT JOIN subject_keys k ON k.subject_id = u.id`
const BRAND_SELECT = `SELECT b.id::text AS id, b.slug, b.name, b.gs1_company_prefix, b.created_at,
  (SELECT count(*) FROM users u WHERE u.brand_id = b.id AND u.erased_at IS NULL)::int AS staff,
  (SELECT count(*) FROM garments g WHERE g.brand_id = b.id)::int AS garments FROM brands b`

const onlyAdmin = (p: Principal, what: string) =>
  p.role === "admin" ? Effect.void : Effect.fail(new Forbidden({ message: `${what} is for admins` }))

/**
 * The console's directory: who is signed in, brands and their staff, accounts and roles (admins; brand
 * staff read their own brand), and a person's inbox (notifications, transfer offers). Personal fields are
 * opened with the person's own key; an erased person reads as nulls.
 */
export class Directory extends Effect.Service<Directory>()("brandme/identity/Directory", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const redis = yield* Redis
    const identity = yield* Identity
    const users = yield* IdentityRepo
    const config = yield* AppConfig
    const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
    const accounts = Schema.decodeUnknown(Schema.Array(AccountRow))
    const brands = Schema.decodeUnknown(Schema.Array(BrandRow))

    const text = (key: Uint8Array | undefined, sealed: Uint8Array | null) =>
      key === undefined || sealed === null ? null : (open(key, sealed)?.toString("utf8") ?? null)
    const toAccount = (r: typeof AccountRow.Type): Account => {
      const key = r.key === null ? undefined : unwrapSubjectKey(master, r.key)
      return {
        id: r.id,
        role: r.role,
        brandId: r.brand_id,
        email: text(key, r.email_sealed),
        displayName: text(key, r.display_name_sealed),
        createdAt: r.created_at
      }
    }
    const toBrand = (r: typeof BrandRow.Type) => ({
      id: r.id,
      slug: r.slug,
      name: r.name,
      gs1CompanyPrefix: r.gs1_company_prefix,
      staff: r.staff,
      garments: r.garments,
      createdAt: r.created_at
    })
    const account = (id: string) =>
      sql`${sql.literal(ACCOUNT_SELECT)} WHERE u.id = ${id}::uuid`.pipe(
        Effect.flatMap(accounts),
        Effect.orDie,
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toAccount))
      )
    const brand = (id: string) =>
      sql`${sql.literal(BRAND_SELECT)} WHERE b.id = ${id}::uuid`.pipe(
        Effect.flatMap(brands),
        Effect.orDie,
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toBrand))
      )

    const me = (p: Principal) =>
      Effect.flatMap(account(p.userId), (a) =>
        Option.match(a, {
          // a token of an account that no longer exists (erased): its claims are all we know
          onNone: () =>
            Effect.succeed<Account>({
              id: p.userId,
              role: p.role === "public" ? "owner" : p.role,
              brandId: p.brandId,
              email: null,
              displayName: null,
              createdAt: new Date(0)
            }),
          onSome: Effect.succeed
        })
      ).pipe(Effect.withSpan("Directory.me"))

    const listBrands = (p: Principal) =>
      Effect.gen(function* () {
        if (p.role === "brand" && p.brandId !== null) {
          return { brands: Option.toArray(yield* brand(p.brandId)) }
        }
        yield* onlyAdmin(p, "listing brands")
        const rows = yield* sql`${sql.literal(BRAND_SELECT)} ORDER BY b.name, b.id`.pipe(
          Effect.flatMap(brands),
          Effect.orDie
        )
        return { brands: rows.map(toBrand) }
      }).pipe(Effect.withSpan("Directory.listBrands"))

    const createBrand = (
      p: Principal,
      input: { readonly slug: string; readonly name: string; readonly gs1CompanyPrefix?: string | undefined }
    ) =>
      Effect.gen(function* () {
        yield* onlyAdmin(p, "creating a brand")
        const [row] = yield* sql<{ id: string }>`
          INSERT INTO brands (slug, name, gs1_company_prefix)
          VALUES (${input.slug}, ${input.name}, ${input.gs1CompanyPrefix ?? null}) RETURNING id::text AS id`.pipe(
          Effect.catchTag("SqlError", (e) =>
            isUniqueViolation(e)
              ? Effect.fail(new Conflict({ message: `a brand with the slug ${input.slug} already exists` }))
              : Effect.die(e)
          )
        )
        const created = yield* brand(row!.id)
        return yield* Option.match(created, {
          onNone: () => Effect.dieMessage("brand vanished after insert"),
          onSome: Effect.succeed
        })
      }).pipe(Effect.withSpan("Directory.createBrand"))

    /** Admins any brand; brand staff their own; a brand that does not exist is a 404 for admins. */
    const staffReadable = (p: Principal, brandId: string) =>
      Effect.gen(function* () {
        if (p.role !== "admin" && !(p.role === "brand" && p.brandId === brandId)) {
          return yield* new Forbidden({ message: "only admins and the brand's own staff see its staff" })
        }
        if (!(yield* users.brandExists(brandId))) return yield* new NotFound({ message: `no brand ${brandId}` })
      })

    const listStaff = (p: Principal, brandId: string) =>
      Effect.gen(function* () {
        yield* staffReadable(p, brandId)
        const rows = yield* sql`${sql.literal(ACCOUNT_SELECT)}
          WHERE u.brand_id = ${brandId}::uuid AND u.erased_at IS NULL ORDER BY u.created_at, u.id`.pipe(
          Effect.flatMap(accounts),
          Effect.orDie
        )
        return { users: rows.map(toAccount) }
      }).pipe(Effect.withSpan("Directory.listStaff"))

    const inviteStaff = (
      p: Principal,
      brandId: string,
      input: { readonly email: string; readonly displayName: string; readonly password: string }
    ) =>
      Effect.gen(function* () {
        yield* onlyAdmin(p, "adding brand staff")
        const created = yield* identity.register(
          { ...input, role: "brand", brandId, regionCode: null, ip: "console" },
          Option.some(p)
        )
        const a = yield* account(created.id)
        return yield* Option.match(a, {
          onNone: () => Effect.dieMessage("account vanished after insert"),
          onSome: Effect.succeed
        })
      }).pipe(Effect.withSpan("Directory.inviteStaff"))

    const listUsers = (
      p: Principal,
      params: {
        readonly role?: UserRole | undefined
        readonly brandId?: string | undefined
        readonly cursor?: CursorKey | undefined
        readonly limit?: number | undefined
      }
    ) =>
      Effect.gen(function* () {
        yield* onlyAdmin(p, "listing accounts")
        const limit = params.limit ?? DEFAULT_PAGE
        const where = [
          sql`u.erased_at IS NULL`,
          params.role === undefined ? sql`TRUE` : sql`u.role = ${params.role}`,
          params.brandId === undefined ? sql`TRUE` : sql`u.brand_id = ${params.brandId}::uuid`,
          params.cursor === undefined
            ? sql`TRUE`
            : sql`(u.created_at, u.id) < (${params.cursor.at}, ${params.cursor.id}::uuid)`
        ]
        const rows = yield* sql`${sql.literal(ACCOUNT_SELECT)} WHERE ${sql.and(where)}
          ORDER BY u.created_at DESC, u.id DESC LIMIT ${limit + 1}`.pipe(Effect.flatMap(accounts), Effect.orDie)
        const page = pageOf(rows, limit, (r) => ({ at: r.created_at, id: r.id }))
        return { users: page.items.map(toAccount), nextCursor: page.nextCursor }
      }).pipe(Effect.withSpan("Directory.listUsers"))

    /** A new role takes effect at once: the person's sessions end (their tokens carry the old role). */
    const setRole = (
      p: Principal,
      userId: string,
      input: { readonly role: UserRole; readonly brandId: string | null }
    ) =>
      Effect.gen(function* () {
        yield* onlyAdmin(p, "setting roles")
        if (userId === p.userId) return yield* new InvalidRequest({ message: "admins cannot change their own role" })
        if ((input.role === "brand") !== (input.brandId !== null)) {
          return yield* new InvalidRequest({ message: "brandId is required for the brand role and only for it" })
        }
        if (input.brandId !== null && !(yield* users.brandExists(input.brandId))) {
          return yield* new NotFound({ message: `no brand ${input.brandId}` })
        }
        const updated = yield* sql<{ id: string }>`
          UPDATE users SET role = ${input.role}, brand_id = ${input.brandId}
          WHERE id = ${userId}::uuid AND erased_at IS NULL RETURNING id::text AS id`.pipe(Effect.orDie)
        if (updated.length === 0) return yield* new NotFound({ message: `no account ${userId}` })
        const sessions = yield* sql<{ id: string }>`
          UPDATE sessions SET revoked_at = now()
          WHERE user_id = ${userId}::uuid AND revoked_at IS NULL RETURNING id::text AS id`.pipe(Effect.orDie)
        yield* Effect.forEach(sessions, (s) => Effect.orDie(redis.del(sessionKey(s.id))), { discard: true })
        const a = yield* account(userId)
        return yield* Option.match(a, {
          onNone: () => new NotFound({ message: `no account ${userId}` }),
          onSome: Effect.succeed
        })
      }).pipe(Effect.withSpan("Directory.setRole"))

    const notifications = (
      p: Principal,
      params: { readonly cursor?: CursorKey | undefined; readonly limit?: number | undefined }
    ) =>
      Effect.gen(function* () {
        const limit = params.limit ?? DEFAULT_PAGE
        const after =
          params.cursor === undefined
            ? sql`TRUE`
            : sql`(created_at, id) < (${params.cursor.at}, ${params.cursor.id}::uuid)`
        const rows = yield* sql`
          SELECT id::text AS id, kind, payload, created_at, read_at FROM notifications
          WHERE user_id = ${p.userId}::uuid AND ${after} ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(NotificationRow))),
          Effect.orDie
        )
        const [unread] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM notifications WHERE user_id = ${p.userId}::uuid AND read_at IS NULL`.pipe(
          Effect.orDie
        )
        const page = pageOf(rows, limit, (r) => ({ at: r.created_at, id: r.id }))
        return {
          notifications: page.items.map((r) => ({
            id: r.id,
            kind: r.kind,
            payload: r.payload,
            createdAt: r.created_at,
            readAt: r.read_at
          })),
          unread: unread?.n ?? 0,
          nextCursor: page.nextCursor
        }
      }).pipe(Effect.withSpan("Directory.notifications"))

    const markRead = (p: Principal, id: string) =>
      Effect.gen(function* () {
        const rows = yield* sql`
          UPDATE notifications SET read_at = coalesce(read_at, now())
          WHERE id = ${id}::uuid AND user_id = ${p.userId}::uuid RETURNING id`.pipe(Effect.orDie)
        // someone else's notification answers like a missing one
        if (rows.length === 0) return yield* new NotFound({ message: `no notification ${id}` })
      }).pipe(Effect.withSpan("Directory.markRead"))

    const transfers = (p: Principal) =>
      Effect.gen(function* () {
        const rows = yield* sql`
          SELECT t.id::text AS id, t.garment_id::text AS garment_id, t.from_user_id::text AS from_user_id,
                 t.to_user_id::text AS to_user_id, t.status, t.created_at, t.expires_at, t.decided_at,
                 g.name AS garment_name
          FROM ownership_transfers t LEFT JOIN garments g ON g.id = t.garment_id
          WHERE t.to_user_id = ${p.userId}::uuid OR t.from_user_id = ${p.userId}::uuid
          ORDER BY (t.status = 'pending') DESC, t.created_at DESC LIMIT 100`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(TransferListingRow))),
          Effect.orDie
        )
        return {
          transfers: rows.map((t) => ({
            ...transferView(t),
            garmentName: t.garment_name,
            direction: t.to_user_id === p.userId ? ("incoming" as const) : ("outgoing" as const)
          }))
        }
      }).pipe(Effect.withSpan("Directory.transfers"))

    return {
      me,
      listBrands,
      createBrand,
      listStaff,
      inviteStaff,
      listUsers,
      setRole,
      notifications,
      markRead,
      transfers
    } as const
  })
}) {}
