import { Effect, Layer } from "effect"
import pg from "pg"
import { migrateUp } from "../../migrations/Migrator.js"
import { AppConfig, type AppConfigShape } from "../../shared/config/AppConfig.js"
import { databaseName, ensureDatabase, withAdminClient } from "../../shared/layers/Admin.js"
import { makeDatabaseLayer } from "../../shared/layers/Database.js"
import { loadDemoData } from "../DemoData.js"
import { fail, info, retry, step } from "./Cli.js"
import { expectedTables, missingTables } from "./Tables.js"

/**
 * db-init, step by step: wait for the server, create the database, extensions, migrations, optional
 * demo data, then check every table the migrations declare exists. Each step is idempotent (IF NOT
 * EXISTS, the migrator's applied-set, the demo brand marker), so a second run changes nothing.
 */
export const Extensions = ["uuid-ossp", "pgcrypto"] as const

export interface DbInitOptions {
  readonly config: AppConfigShape
  readonly url: string
  readonly seed: boolean
  readonly waitTimeoutMs: number
  readonly migrationsDir?: string
}

export interface DbInitReport {
  readonly createdDatabase: boolean
  readonly extensionsCreated: ReadonlyArray<string>
  readonly migrationsApplied: ReadonlyArray<string>
  readonly seeded: "loaded" | "already-loaded" | "skipped"
  readonly tables: number
}

const NAME = "db-init"

export const withDatabaseClient = async <A>(url: string, f: (c: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

export const initDatabase = async (o: DbInitOptions): Promise<DbInitReport> => {
  const db = databaseName(o.url)
  await step(NAME, "waiting for Postgres", () =>
    retry(NAME, "Postgres", () => withAdminClient(o.url, (c) => c.query("SELECT 1")), {
      timeoutMs: o.waitTimeoutMs,
      intervalMs: 1000
    })
  )
  const createdDatabase = await step(NAME, `database "${db}"`, () => ensureDatabase(o.url))
  info(NAME, createdDatabase ? `created database "${db}"` : `database "${db}" already exists`)

  const extensionsCreated = await step(NAME, `extensions ${Extensions.join(", ")}`, () =>
    withDatabaseClient(o.url, async (c) => {
      const before = await c.query<{ extname: string }>("SELECT extname FROM pg_extension")
      const had = new Set(before.rows.map((r) => r.extname))
      for (const ext of Extensions) await c.query(`CREATE EXTENSION IF NOT EXISTS "${ext}"`)
      return Extensions.filter((e) => !had.has(e))
    })
  )

  const layer = Layer.merge(
    makeDatabaseLayer({
      url: o.url,
      poolMax: 2,
      idleTimeoutMs: 1000,
      connectTimeoutMs: o.config.database.connectTimeoutMs,
      ssl: o.config.database.ssl,
      applicationName: "brandme-db-init"
    }),
    AppConfig.layerWith(o.config)
  )
  const outcome = await step(NAME, "migrations and seed data", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const migrationsApplied = yield* migrateUp(o.migrationsDir)
        const seeded: DbInitReport["seeded"] = o.seed
          ? (yield* loadDemoData).created
            ? "loaded"
            : "already-loaded"
          : "skipped"
        return { migrationsApplied, seeded }
      }).pipe(Effect.provide(layer), Effect.either)
    )
  )
  if (outcome._tag === "Left") return fail(`migration or seed failed: ${outcome.left.message}`)
  const { migrationsApplied, seeded } = outcome.right
  info(NAME, migrationsApplied.length === 0 ? "no pending migrations" : `applied ${migrationsApplied.join(", ")}`)
  info(NAME, `demo data: ${seeded}`)

  const expected = expectedTables(o.migrationsDir)
  const missing = await step(NAME, `checking ${expected.length} tables`, () =>
    withDatabaseClient(o.url, (c) => missingTables(c, expected))
  )
  if (missing.length > 0) fail(`tables missing after migration: ${missing.join(", ")}`)
  return { createdDatabase, extensionsCreated, migrationsApplied, seeded, tables: expected.length }
}
