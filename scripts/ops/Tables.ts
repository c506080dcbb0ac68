import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type pg from "pg"
import { defaultMigrationsDir } from "../../migrations/Migrator.js"

/**
 * The tables the platform expects, read from the migrations themselves (every `CREATE TABLE` of an
 * `up` file minus every `DROP TABLE` of a later `up`), so db-init and smoke never keep a second list.
 */
const CREATE = /\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi
const DROP = /\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi

/** Strips `--` line comments and block comments so commented-out DDL is not counted. */
const stripComments = (sql: string): string => sql.replace(/\/\*[\s\S]*?\*\//g, "").replace(/--[^\n]*/g, "")

export const tablesFromSql = (upFiles: ReadonlyArray<string>): ReadonlyArray<string> => {
  const tables = new Set<string>()
  for (const text of upFiles) {
    const sql = stripComments(text)
    for (const m of sql.matchAll(DROP)) tables.delete(m[1]!.toLowerCase())
    for (const m of sql.matchAll(CREATE)) tables.add(m[1]!.toLowerCase())
  }
  return [...tables].sort()
}

export const expectedTables = (dir: string = defaultMigrationsDir()): ReadonlyArray<string> =>
  tablesFromSql(
    readdirSync(dir)
      .filter((f) => f.endsWith(".up.sql"))
      .sort()
      .map((f) => readFileSync(join(dir, f), "utf8"))
  )

/** The expected tables missing from the connected database's `public` schema. */
export const missingTables = async (client: pg.Client, expected: ReadonlyArray<string>): Promise<Array<string>> => {
  const found = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
  )
  const present = new Set(found.rows.map((r) => r.table_name))
  return expected.filter((t) => !present.has(t))
}
