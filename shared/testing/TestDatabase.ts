import { randomBytes } from "node:crypto"
import { ConfigProvider, Effect, Layer } from "effect"
import { AppConfig, appConfig, type AppConfigShape } from "../config/AppConfig.js"
import { dropDatabase, ensureDatabase } from "../layers/Admin.js"
import { makeDatabaseLayer } from "../layers/Database.js"
import { migrateUp } from "../../migrations/Migrator.js"

/**
 * Integration-test isolation: every test file gets its own database (migrated), Redis key prefix,
 * queue prefix and NATS stream prefix, so runs never collide; `drop()` removes the database.
 */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

export const uniqueId = (label: string): string =>
  `${label}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`

export const testDatabaseUrl = (name: string): string => {
  const u = new URL(ADMIN_URL)
  u.pathname = `/${name}`
  return u.toString()
}

export interface TestDatabase {
  readonly name: string
  readonly url: string
  readonly drop: () => Promise<void>
}

export const createTestDatabase = async (label = "t", migrate = true): Promise<TestDatabase> => {
  const name = uniqueId(`brandme_${label}`).toLowerCase()
  const url = testDatabaseUrl(name)
  await ensureDatabase(url)
  if (migrate) {
    await Effect.runPromise(
      migrateUp().pipe(
        Effect.provide(
          makeDatabaseLayer({
            url,
            poolMax: 2,
            idleTimeoutMs: 1000,
            connectTimeoutMs: 5000,
            ssl: "disable",
            applicationName: "test-migrate"
          })
        )
      )
    )
  }
  return { name, url, drop: () => dropDatabase(url) }
}

/** A development AppConfig with overrides (env-style keys), for tests. */
export const testConfig = (overrides: Record<string, string> = {}): AppConfigShape =>
  Effect.runSync(appConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(overrides))))))

export const testConfigLayer = (overrides: Record<string, string> = {}) =>
  Layer.succeed(AppConfig, testConfig(overrides))

/** Free TCP port on loopback. */
export const freePort = async (): Promise<number> => {
  const { createServer } = await import("node:net")
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address()
      const port = typeof addr === "object" && addr !== null ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}
