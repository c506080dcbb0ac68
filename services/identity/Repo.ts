import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { NotImplementedInTest } from "../../shared/layers/Errors.js"
import { EmailTaken } from "./Errors.js"

/**
 * Identity's tables (migration 0001): users, subject_keys, sessions, devices. SQL failures are
 * infrastructure failures and become defects here, at the edge; only domain outcomes are typed.
 */
export const UserRole = Schema.Literal("owner", "brand", "auditor", "admin")
export type UserRole = typeof UserRole.Type

const Bytes = Schema.Uint8ArrayFromSelf

export const UserRow = Schema.Struct({
  id: Schema.String,
  role: UserRole,
  brand_id: Schema.NullOr(Schema.String),
  password_hash: Schema.NullOr(Schema.String),
  email_sealed: Schema.NullOr(Bytes),
  display_name_sealed: Schema.NullOr(Bytes),
  region_code: Schema.NullOr(Schema.String),
  created_at: Schema.DateFromSelf,
  erased_at: Schema.NullOr(Schema.DateFromSelf)
})
export type UserRow = typeof UserRow.Type

export const DeviceRow = Schema.Struct({
  id: Schema.String,
  user_id: Schema.NullOr(Schema.String),
  brand_id: Schema.NullOr(Schema.String),
  name: Schema.String,
  api_key_prefix: Schema.String,
  api_key_hash: Bytes,
  created_at: Schema.DateFromSelf,
  last_used_at: Schema.NullOr(Schema.DateFromSelf),
  revoked_at: Schema.NullOr(Schema.DateFromSelf)
})
export type DeviceRow = typeof DeviceRow.Type

export interface NewUser {
  readonly emailHash: Uint8Array
  readonly emailSealed: Uint8Array
  readonly displayNameSealed: Uint8Array
  readonly passwordHash: string
  readonly role: UserRole
  readonly brandId: string | null
  readonly regionCode: string | null
  /** the subject key, already wrapped under the PII master key */
  readonly wrappedKey: Uint8Array
}

export interface NewDevice {
  readonly userId: string | null
  readonly brandId: string | null
  readonly name: string
  readonly prefix: string
  readonly hash: Uint8Array
}

export interface IdentityRepoShape {
  readonly findUserByEmailHash: (hash: Uint8Array) => Effect.Effect<Option.Option<UserRow>>
  readonly findUser: (id: string) => Effect.Effect<Option.Option<UserRow>>
  /** the wrapped subject key; none once erased */
  readonly wrappedSubjectKey: (subjectId: string) => Effect.Effect<Option.Option<Uint8Array>>
  readonly insertUser: (u: NewUser) => Effect.Effect<{ readonly id: string }, EmailTaken>
  readonly brandExists: (brandId: string) => Effect.Effect<boolean>
  readonly insertSession: (userId: string, ttlSeconds: number) => Effect.Effect<{ readonly id: string }>
  readonly revokeSession: (sessionId: string) => Effect.Effect<void>
  readonly insertDevice: (d: NewDevice) => Effect.Effect<DeviceRow>
  readonly findDevice: (id: string) => Effect.Effect<Option.Option<DeviceRow>>
  readonly findDeviceByPrefix: (prefix: string) => Effect.Effect<Option.Option<DeviceRow>>
  readonly revokeDevice: (id: string) => Effect.Effect<void>
  /** records use at most once a minute, so a busy device does not write on every request */
  readonly touchDevice: (id: string) => Effect.Effect<void>
}

export class IdentityRepo extends Context.Tag("brandme/identity/IdentityRepo")<IdentityRepo, IdentityRepoShape>() {}

export const isUniqueViolation = (e: SqlError): boolean =>
  typeof e.cause === "object" && e.cause !== null && "code" in e.cause && e.cause.code === "23505"

const USER_COLUMNS =
  "id::text AS id, role, brand_id::text AS brand_id, password_hash, email_sealed, display_name_sealed, region_code, created_at, erased_at"
const DEVICE_COLUMNS =
  "id::text AS id, user_id::text AS user_id, brand_id::text AS brand_id, name, api_key_prefix, api_key_hash, created_at, last_used_at, revoked_at"

export const IdentityRepoLive = Layer.effect(
  IdentityRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const users = Schema.decodeUnknown(Schema.Array(UserRow))
    const devices = Schema.decodeUnknown(Schema.Array(DeviceRow))
    const first = <A>(rows: ReadonlyArray<A>) => Option.fromNullable(rows[0])
    const userCols = sql.unsafe(USER_COLUMNS)
    const deviceCols = sql.unsafe(DEVICE_COLUMNS)

    return IdentityRepo.of({
      findUserByEmailHash: (hash) =>
        sql`SELECT ${userCols} FROM users WHERE email_hash = ${hash}`.pipe(
          Effect.flatMap(users),
          Effect.map(first),
          Effect.orDie
        ),
      findUser: (id) =>
        sql`SELECT ${userCols} FROM users WHERE id = ${id}::uuid`.pipe(
          Effect.flatMap(users),
          Effect.map(first),
          Effect.orDie
        ),
      wrappedSubjectKey: (id) =>
        sql<{ key: Uint8Array | null }>`SELECT key FROM subject_keys WHERE subject_id = ${id}::uuid`.pipe(
          Effect.map((rows) => Option.fromNullable(rows[0]?.key)),
          Effect.orDie
        ),
      insertUser: (u) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const [row] = yield* sql<{ id: string }>`
                INSERT INTO users (email_hash, email_sealed, display_name_sealed, password_hash, role, brand_id, region_code)
                VALUES (${u.emailHash}, ${u.emailSealed}, ${u.displayNameSealed}, ${u.passwordHash}, ${u.role},
                        ${u.brandId}, ${u.regionCode})
                RETURNING id::text AS id`
              yield* sql`INSERT INTO subject_keys (subject_id, key) VALUES (${row!.id}::uuid, ${u.wrappedKey})`
              return { id: row!.id }
            })
          )
          .pipe(
            Effect.catchTag("SqlError", (e) =>
              isUniqueViolation(e)
                ? Effect.fail(new EmailTaken({ message: "an account with this email already exists" }))
                : Effect.die(e)
            )
          ),
      brandExists: (brandId) =>
        sql`SELECT 1 AS one FROM brands WHERE id = ${brandId}::uuid`.pipe(
          Effect.map((rows) => rows.length > 0),
          Effect.orDie
        ),
      insertSession: (userId, ttl) =>
        sql<{ id: string }>`
          INSERT INTO sessions (user_id, expires_at) VALUES (${userId}::uuid, now() + make_interval(secs => ${ttl}))
          RETURNING id::text AS id`.pipe(
          Effect.map((rows) => ({ id: rows[0]!.id })),
          Effect.orDie
        ),
      revokeSession: (id) =>
        sql`UPDATE sessions SET revoked_at = now() WHERE id = ${id}::uuid AND revoked_at IS NULL`.pipe(
          Effect.asVoid,
          Effect.orDie
        ),
      insertDevice: (d) =>
        sql`
          INSERT INTO devices (user_id, brand_id, name, api_key_prefix, api_key_hash)
          VALUES (${d.userId}, ${d.brandId}, ${d.name}, ${d.prefix}, ${d.hash})
          RETURNING ${deviceCols}`.pipe(
          Effect.flatMap(devices),
          Effect.map((rows) => rows[0]!),
          Effect.orDie
        ),
      findDevice: (id) =>
        sql`SELECT ${deviceCols} FROM devices WHERE id = ${id}::uuid`.pipe(
          Effect.flatMap(devices),
          Effect.map(first),
          Effect.orDie
        ),
      findDeviceByPrefix: (prefix) =>
        sql`SELECT ${deviceCols} FROM devices WHERE api_key_prefix = ${prefix}`.pipe(
          Effect.flatMap(devices),
          Effect.map(first),
          Effect.orDie
        ),
      revokeDevice: (id) =>
        sql`UPDATE devices SET revoked_at = now() WHERE id = ${id}::uuid AND revoked_at IS NULL`.pipe(
          Effect.asVoid,
          Effect.orDie
        ),
      touchDevice: (id) =>
        sql`
          UPDATE devices SET last_used_at = now()
          WHERE id = ${id}::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.pipe(
          Effect.asVoid,
          Effect.orDie
        )
    })
  })
)

/** Unit tests: stub only what a test needs; anything else fails loudly, naming the method. */
export const makeIdentityRepoTest = (impl: Partial<IdentityRepoShape>) => {
  const missing = (method: string) => Effect.die(new NotImplementedInTest({ service: "IdentityRepo", method }))
  const service: IdentityRepoShape = {
    findUserByEmailHash: impl.findUserByEmailHash ?? (() => missing("findUserByEmailHash")),
    findUser: impl.findUser ?? (() => missing("findUser")),
    wrappedSubjectKey: impl.wrappedSubjectKey ?? (() => missing("wrappedSubjectKey")),
    insertUser: impl.insertUser ?? (() => missing("insertUser")),
    brandExists: impl.brandExists ?? (() => missing("brandExists")),
    insertSession: impl.insertSession ?? (() => missing("insertSession")),
    revokeSession: impl.revokeSession ?? (() => missing("revokeSession")),
    insertDevice: impl.insertDevice ?? (() => missing("insertDevice")),
    findDevice: impl.findDevice ?? (() => missing("findDevice")),
    findDeviceByPrefix: impl.findDeviceByPrefix ?? (() => missing("findDeviceByPrefix")),
    revokeDevice: impl.revokeDevice ?? (() => missing("revokeDevice")),
    touchDevice: impl.touchDevice ?? (() => missing("touchDevice"))
  }
  return Layer.succeed(IdentityRepo, service)
}
