import { execFileSync } from "node:child_process"
import { afterAll, describe, expect, it } from "vitest"
import { dropDatabase } from "../../shared/layers/Admin.js"
import { withDatabaseClient } from "./DbInit.js"
import { expectedTables } from "./Tables.js"
import { runCliScript, testDbUrl, uniqueName } from "./testSupport.js"

/**
 * `npm run db-init` as an operator runs it, on a database that does not exist yet: the first run creates
 * everything, the second changes nothing — same schema dump, same row counts.
 */
const url = testDbUrl(uniqueName("brandme_t_dbinit"))
afterAll(() => dropDatabase(url))

const schemaDump = () =>
  execFileSync("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", `--dbname=${url}`], { encoding: "utf8" })
    // pg_dump 15.x writes a random \restrict token in newer minor releases; not part of the schema
    .replace(/^\\(un)?restrict .*$/gm, "")

const rowCounts = () =>
  withDatabaseClient(url, async (c) => {
    const out: Record<string, number> = {}
    for (const t of [...expectedTables(), "schema_migrations"]) {
      const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`)
      out[t] = Number(r.rows[0]?.n)
    }
    return out
  })

describe("db-init", () => {
  it("creates the database, extensions, tables and demo data; a second run changes nothing", async () => {
    const first = await runCliScript("scripts/db-init.ts", ["--seed"], {
      DATABASE_URL: url,
      FEATURE_DEMO_DATA: "false"
    })
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(first.stdout).toContain("database created")
    expect(first.stdout).toContain("extensions created: uuid-ossp, pgcrypto")
    expect(first.stdout).toContain("demo data: loaded")

    const extensions = await withDatabaseClient(url, (c) =>
      c.query<{ extname: string }>("SELECT extname FROM pg_extension")
    )
    expect(extensions.rows.map((r) => r.extname)).toEqual(expect.arrayContaining(["uuid-ossp", "pgcrypto"]))
    const counts1 = await rowCounts()
    expect(counts1.users).toBe(4)
    expect(counts1.garments).toBe(5)
    expect(counts1.schema_migrations).toBeGreaterThanOrEqual(3)
    const schema1 = schemaDump()
    for (const t of expectedTables()) expect(schema1).toContain(`CREATE TABLE public.${t} (`)

    const second = await runCliScript("scripts/db-init.ts", ["--seed"], {
      DATABASE_URL: url,
      FEATURE_DEMO_DATA: "false"
    })
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(
      "database existed, extensions created: none, migrations applied: 0, demo data: already-loaded"
    )
    expect(schemaDump()).toBe(schema1)
    expect(await rowCounts()).toEqual(counts1)
  })

  it("fails with a message and exit 1 when Postgres cannot be reached", async () => {
    const r = await runCliScript("scripts/db-init.ts", ["--wait", "2"], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/nothing"
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^db-init: Postgres: gave up after \d+ attempts/)
    expect(r.stderr).toContain("ECONNREFUSED")
  })
})
