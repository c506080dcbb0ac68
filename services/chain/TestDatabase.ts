import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { PgClient } from "@effect/sql-pg"
import { Redacted } from "effect"
import pg from "pg"

const ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
const MIGRATION = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "migrations", "sql", "0003_chain.up.sql")

/**
 * Integration tests only: a database of its own (`brandme_t_<random>`) with the chain migration applied,
 * dropped afterwards, so test files never share state.
 */
export const createChainDatabase = async () => {
  const name = `brandme_t_chain_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = `postgres://postgres@127.0.0.1:5432/${name}`
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(readFileSync(MIGRATION, "utf8"))
  return {
    name,
    url,
    /** a plain client for assertions on the tables */
    query: async (text: string, values: ReadonlyArray<unknown> = []) => (await client.query(text, [...values])).rows,
    layer: PgClient.layer({ url: Redacted.make(url), maxConnections: 5 }),
    drop: async () => {
      await client.end()
      const a = new pg.Client({ connectionString: ADMIN_URL })
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    }
  }
}
