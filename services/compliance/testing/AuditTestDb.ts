/**
 * An isolated database for an audit integration test: `brandme_t_<random>`, migrated with the project's
 * migrator (0001 core domain for subject_keys, 0002 audit log, …), dropped afterwards.
 */
import { randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { migrateUp } from "../../../migrations/Migrator.js"

const ADMIN_URL = process.env.AUDIT_TEST_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

export interface TestDb {
  readonly name: string
  readonly url: string
  readonly drop: () => Promise<void>
}

const admin = async <A>(f: (c: pg.Client) => Promise<A>): Promise<A> => {
  const c = new pg.Client({ connectionString: ADMIN_URL })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}

export const createTestDb = async (prefix = "brandme_t_"): Promise<TestDb> => {
  const name = `${prefix}${randomBytes(6).toString("hex")}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
  await Effect.runPromise(migrateUp().pipe(Effect.provide(pgLayer(url)), Effect.asVoid))
  return {
    name,
    url,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined)
  }
}

export const pgLayer = (url: string, maxConnections = 4) =>
  PgClient.layer({ url: Redacted.make(url), maxConnections }).pipe(Layer.orDie)

/** Runs raw SQL as the superuser with the append-only triggers off — how the tamper tests play the attacker. */
export const asAttacker = (url: string, statements: ReadonlyArray<string>): Promise<void> => {
  const c = new pg.Client({ connectionString: url })
  return c
    .connect()
    .then(async () => {
      await c.query("SET session_replication_role = replica")
      for (const s of statements) await c.query(s)
    })
    .finally(() => c.end())
}
