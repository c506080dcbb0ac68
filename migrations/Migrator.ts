import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"

/**
 * The migration runner. Migrations are numbered SQL pairs `NNNN_name.up.sql` / `NNNN_name.down.sql`.
 * Each runs in its own transaction; the checksum of every applied `up` is recorded and an edited
 * migration is refused by name; a Postgres advisory lock makes concurrent runners wait for each
 * other, so nothing runs twice.
 */
export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  reason: Schema.Literal("invalid-file", "edited", "missing-file", "failed", "nothing-to-revert"),
  migration: Schema.optional(Schema.String),
  message: Schema.String
}) {}

export interface Migration {
  readonly id: number
  readonly name: string
  readonly up: string
  readonly down: string
  readonly checksum: string
}

export interface AppliedMigration {
  readonly id: number
  readonly name: string
  readonly checksum: string
  readonly appliedAt: string
}

export interface MigrationStatus {
  readonly id: number
  readonly name: string
  readonly state: "applied" | "pending" | "edited" | "missing-file"
  readonly appliedAt?: string
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/
/** Arbitrary but fixed: the key every migrator process locks on. */
const LOCK_KEY = 727_001_2024

const here = dirname(fileURLToPath(import.meta.url))

/** The SQL folder beside the sources; the compiled build (dist/migrations) looks two levels up. */
export const defaultMigrationsDir = (): string => {
  const candidates = [join(here, "sql"), join(here, "..", "..", "migrations", "sql")]
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!
}

export const checksumOf = (sql: string): string => createHash("sha256").update(sql).digest("hex")

export const loadMigrations = (dir: string): Effect.Effect<ReadonlyArray<Migration>, MigrationError> =>
  Effect.gen(function* () {
    const files = yield* Effect.try({
      try: () => readdirSync(dir).filter((f) => f.endsWith(".sql")),
      catch: () => new MigrationError({ reason: "invalid-file", message: `cannot read migrations folder ${dir}` })
    })
    const byId = new Map<number, { name: string; up?: string; down?: string }>()
    for (const f of files.sort()) {
      const m = FILE.exec(f)
      if (m === null) {
        return yield* new MigrationError({
          reason: "invalid-file",
          migration: f,
          message: `${f}: migration files are named NNNN_name.up.sql / NNNN_name.down.sql`
        })
      }
      const id = Number(m[1])
      const name = m[2]!
      const entry = byId.get(id) ?? { name }
      if (entry.name !== name) {
        return yield* new MigrationError({
          reason: "invalid-file",
          migration: f,
          message: `${f}: migration ${m[1]} already has the name ${entry.name}`
        })
      }
      const text = readFileSync(join(dir, f), "utf8")
      if (m[3] === "up") entry.up = text
      else entry.down = text
      byId.set(id, entry)
    }
    const out: Array<Migration> = []
    for (const [id, e] of [...byId.entries()].sort((a, b) => a[0] - b[0])) {
      const label = `${String(id).padStart(4, "0")}_${e.name}`
      if (e.up === undefined || e.down === undefined) {
        return yield* new MigrationError({
          reason: "invalid-file",
          migration: label,
          message: `${label}: both ${label}.up.sql and ${label}.down.sql are required`
        })
      }
      out.push({ id, name: e.name, up: e.up, down: e.down, checksum: checksumOf(e.up) })
    }
    return out
  })

const label = (m: { id: number; name: string }) => `${String(m.id).padStart(4, "0")}_${m.name}`

const failed = (m: { id: number; name: string }, what: string) => (e: SqlError) =>
  new MigrationError({
    reason: "failed",
    migration: label(m),
    message: `${label(m)} ${what} failed: ${describe(e)}`
  })

const describe = (e: SqlError): string => {
  const cause = e.cause
  return cause instanceof Error ? cause.message : e.message
}

/** Runs `f` holding the migration lock on one reserved connection. */
const withLock = <A, E, R>(
  f: (exec: (sql: string) => Effect.Effect<ReadonlyArray<unknown>, SqlError>) => Effect.Effect<A, E, R>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const conn = yield* sql.reserve
      const exec = (text: string) => conn.executeUnprepared(text, [], undefined)
      yield* Effect.acquireRelease(exec(`SELECT pg_advisory_lock(${LOCK_KEY})`), () =>
        Effect.orDie(exec(`SELECT pg_advisory_unlock(${LOCK_KEY})`))
      )
      yield* exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        id integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        execution_ms integer NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
      return yield* f(exec)
    })
  )

const readApplied = (exec: (sql: string) => Effect.Effect<ReadonlyArray<unknown>, SqlError>) =>
  Effect.flatMap(
    exec("SELECT id, name, checksum, applied_at::text AS applied_at FROM schema_migrations ORDER BY id"),
    Schema.decodeUnknown(
      Schema.Array(
        Schema.Struct({ id: Schema.Number, name: Schema.String, checksum: Schema.String, applied_at: Schema.String })
      )
    )
  ).pipe(
    Effect.map((rows) =>
      rows.map((r): AppliedMigration => ({ id: r.id, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }))
    ),
    Effect.orDie
  )

const verifyApplied = (applied: ReadonlyArray<AppliedMigration>, files: ReadonlyArray<Migration>) =>
  Effect.gen(function* () {
    for (const a of applied) {
      const f = files.find((m) => m.id === a.id)
      if (f === undefined) {
        return yield* new MigrationError({
          reason: "missing-file",
          migration: label(a),
          message: `${label(a)} is applied but its file is missing`
        })
      }
      if (f.checksum !== a.checksum || f.name !== a.name) {
        return yield* new MigrationError({
          reason: "edited",
          migration: label(f),
          message: `${label(f)} was edited after it was applied (checksum differs): write a new migration instead`
        })
      }
    }
  })

export const migrateUp = (dir: string = defaultMigrationsDir()) =>
  Effect.gen(function* () {
    const files = yield* loadMigrations(dir)
    return yield* withLock((exec) =>
      Effect.gen(function* () {
        const applied = yield* readApplied(exec)
        yield* verifyApplied(applied, files)
        const done = new Set(applied.map((a) => a.id))
        const ran: Array<string> = []
        for (const m of files) {
          if (done.has(m.id)) continue
          const t0 = Date.now()
          yield* exec("BEGIN").pipe(Effect.mapError(failed(m, "begin")))
          const result = yield* Effect.either(
            Effect.gen(function* () {
              yield* exec(m.up)
              yield* exec(
                `INSERT INTO schema_migrations (id, name, checksum, execution_ms) VALUES (${m.id}, '${m.name}', '${m.checksum}', ${Date.now() - t0})`
              )
              yield* exec("COMMIT")
            })
          )
          if (result._tag === "Left") {
            yield* Effect.ignore(exec("ROLLBACK"))
            return yield* failed(m, "up")(result.left)
          }
          ran.push(label(m))
          yield* Effect.logDebug(`migrated up ${label(m)}`)
        }
        return ran
      })
    )
  })

export const migrateDown = (steps = 1, dir: string = defaultMigrationsDir()) =>
  Effect.gen(function* () {
    const files = yield* loadMigrations(dir)
    return yield* withLock((exec) =>
      Effect.gen(function* () {
        const applied = yield* readApplied(exec)
        yield* verifyApplied(applied, files)
        const targets = [...applied].reverse().slice(0, steps)
        const ran: Array<string> = []
        for (const a of targets) {
          const m = files.find((f) => f.id === a.id)!
          yield* exec("BEGIN").pipe(Effect.mapError(failed(m, "begin")))
          const result = yield* Effect.either(
            Effect.gen(function* () {
              yield* exec(m.down)
              yield* exec(`DELETE FROM schema_migrations WHERE id = ${m.id}`)
              yield* exec("COMMIT")
            })
          )
          if (result._tag === "Left") {
            yield* Effect.ignore(exec("ROLLBACK"))
            return yield* failed(m, "down")(result.left)
          }
          ran.push(label(m))
          yield* Effect.logDebug(`migrated down ${label(m)}`)
        }
        return ran
      })
    )
  })

export const migrationStatus = (dir: string = defaultMigrationsDir()) =>
  Effect.gen(function* () {
    const files = yield* loadMigrations(dir)
    return yield* withLock((exec) =>
      Effect.gen(function* () {
        const applied = yield* readApplied(exec)
        const rows: Array<MigrationStatus> = files.map((m) => {
          const a = applied.find((x) => x.id === m.id)
          if (a === undefined) return { id: m.id, name: m.name, state: "pending" }
          return {
            id: m.id,
            name: m.name,
            state: a.checksum === m.checksum ? "applied" : "edited",
            appliedAt: a.appliedAt
          }
        })
        for (const a of applied) {
          if (!files.some((m) => m.id === a.id)) {
            rows.push({ id: a.id, name: a.name, state: "missing-file", appliedAt: a.appliedAt })
          }
        }
        return rows.sort((x, y) => x.id - y.id)
      })
    )
  })
