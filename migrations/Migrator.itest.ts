import { execFile, spawn } from "node:child_process"
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Effect, Either } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeDatabaseLayer } from "../shared/layers/Database.js"
import { createTestDatabase, type TestDatabase } from "../shared/testing/TestDatabase.js"
import { defaultMigrationsDir, loadMigrations, migrateDown, migrateUp, migrationStatus } from "./Migrator.js"

const run = promisify(execFile)

const dbLayer = (url: string) =>
  makeDatabaseLayer({
    url,
    poolMax: 2,
    idleTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    ssl: "disable",
    applicationName: "t"
  })

const schemaDump = async (url: string) => {
  const { stdout } = await run("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", url])
  // pg_dump prints a random \restrict token on newer builds; it is not part of the schema
  return stdout
    .split("\n")
    .filter((l) => !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict"))
    .join("\n")
}

const query = async (url: string, text: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(text)).rows
  } finally {
    await c.end()
  }
}

describe("migrations", () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase("mig", false)
  })
  afterAll(async () => {
    await db.drop()
  })

  it("up → down to zero → up leaves an identical schema", async () => {
    const files = await Effect.runPromise(loadMigrations(defaultMigrationsDir()))
    const applied = await Effect.runPromise(migrateUp().pipe(Effect.provide(dbLayer(db.url))))
    expect(applied.length).toBe(files.length)
    const first = await schemaDump(db.url)
    expect(first).toContain("CREATE TABLE public.scan_events")

    const reverted = await Effect.runPromise(migrateDown(files.length).pipe(Effect.provide(dbLayer(db.url))))
    expect(reverted.length).toBe(files.length)
    const tables = await query(
      db.url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    )
    expect(tables).toEqual([])

    await Effect.runPromise(migrateUp().pipe(Effect.provide(dbLayer(db.url))))
    expect(await schemaDump(db.url)).toBe(first)
    const status = await Effect.runPromise(migrationStatus().pipe(Effect.provide(dbLayer(db.url))))
    expect(status.every((s) => s.state === "applied")).toBe(true)
  })

  it("two concurrent `migrate up` processes: one waits, nothing runs twice", async () => {
    const fresh = await createTestDatabase("migc", false)
    try {
      const start = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", "migrations/cli.ts", "up"], {
            env: { ...process.env, DATABASE_URL: fresh.url, LOG_LEVEL: "warn" },
            stdio: ["ignore", "pipe", "pipe"]
          })
          let out = ""
          child.stdout.on("data", (d) => {
            out += d
          })
          child.stderr.on("data", (d) => {
            out += d
          })
          child.on("close", (code) => resolve({ code, out }))
        })
      const [a, b] = await Promise.all([start(), start()])
      expect(a.code, a.out).toBe(0)
      expect(b.code, b.out).toBe(0)
      const outputs = [a.out, b.out]
      // exactly one process applied the migrations; the other found them applied
      expect(outputs.filter((o) => o.includes("applied ")).length).toBe(1)
      expect(outputs.filter((o) => o.includes("up to date")).length).toBe(1)
      const rows = await query(fresh.url, "SELECT id, count(*)::int AS n FROM schema_migrations GROUP BY id")
      expect(rows.every((r) => r.n === 1)).toBe(true)
    } finally {
      await fresh.drop()
    }
  })

  it("refuses an edited migration, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "brandme-mig-"))
    const fresh = await createTestDatabase("mige", false)
    try {
      cpSync(defaultMigrationsDir(), dir, { recursive: true })
      await Effect.runPromise(migrateUp(dir).pipe(Effect.provide(dbLayer(fresh.url))))
      const file = join(dir, "0001_core_domain.up.sql")
      writeFileSync(file, `${readFileSync(file, "utf8")}\n-- an innocent-looking edit\n`)
      const result = await Effect.runPromise(Effect.either(migrateUp(dir).pipe(Effect.provide(dbLayer(fresh.url)))))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left._tag).toBe("MigrationError")
        expect(result.left.message).toContain("0001_core_domain")
        expect(result.left.message).toContain("edited")
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await fresh.drop()
    }
  })

  it("rolls back a failing migration and records nothing for it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "brandme-migf-"))
    const fresh = await createTestDatabase("migf", false)
    try {
      cpSync(defaultMigrationsDir(), dir, { recursive: true })
      writeFileSync(join(dir, "9999_broken.up.sql"), "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;")
      writeFileSync(join(dir, "9999_broken.down.sql"), "DROP TABLE half_done;")
      const result = await Effect.runPromise(Effect.either(migrateUp(dir).pipe(Effect.provide(dbLayer(fresh.url)))))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(result.left.message).toContain("9999_broken")
      const half = await query(fresh.url, "SELECT to_regclass('public.half_done') AS t")
      expect(half[0]?.t).toBeNull()
      const recorded = await query(fresh.url, "SELECT id FROM schema_migrations WHERE id = 9999")
      expect(recorded).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await fresh.drop()
    }
  })
})
