import { Effect, Redacted } from "effect"
import { AppConfig } from "../shared/config/AppConfig.js"
import { makeDatabaseLayer } from "../shared/layers/Database.js"
import { runProcess, StartupError } from "../shared/runtime/Process.js"
import { defaultMigrationsDir, migrateDown, migrateUp, migrationStatus } from "./Migrator.js"

const usage = `usage: npm run migrate -- <command>

commands:
  up           apply every pending migration (each in a transaction)
  down [n]     revert the last n applied migrations (default 1)
  status       list migrations and their state

environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/brandme), MIGRATIONS_DIR`

const [command, arg] = process.argv.slice(2)
if (command === undefined || command === "--help" || command === "-h") {
  process.stdout.write(`${usage}\n`)
  process.exit(command === undefined ? 1 : 0)
}

const dir = process.env.MIGRATIONS_DIR ?? defaultMigrationsDir()

const program = Effect.gen(function* () {
  const config = yield* AppConfig
  const db = makeDatabaseLayer({
    url: Redacted.value(config.database.url),
    poolMax: 2,
    idleTimeoutMs: 1000,
    connectTimeoutMs: config.database.connectTimeoutMs,
    ssl: config.database.ssl,
    applicationName: "brandme-migrate"
  })
  const run = Effect.gen(function* () {
    switch (command) {
      case "up": {
        const ran = yield* migrateUp(dir)
        process.stdout.write(ran.length === 0 ? "up to date\n" : `applied ${ran.length}: ${ran.join(", ")}\n`)
        return
      }
      case "down": {
        const n = arg === undefined ? 1 : Number(arg)
        if (!Number.isInteger(n) || n < 1)
          return yield* Effect.die(new StartupError(`down: n must be a positive integer, got "${arg}"`))
        const ran = yield* migrateDown(n, dir)
        process.stdout.write(ran.length === 0 ? "nothing to revert\n" : `reverted ${ran.length}: ${ran.join(", ")}\n`)
        return
      }
      case "status": {
        const rows = yield* migrationStatus(dir)
        for (const r of rows) {
          process.stdout.write(
            `${String(r.id).padStart(4, "0")}_${r.name.padEnd(32)} ${r.state.padEnd(12)} ${r.appliedAt ?? ""}\n`
          )
        }
        return
      }
      default:
        return yield* Effect.die(new StartupError(`unknown command "${command}"\n${usage}`))
    }
  })
  return yield* run.pipe(
    Effect.provide(db),
    Effect.catchTags({
      MigrationError: (e) => Effect.die(new StartupError(e.message)),
      SqlError: (e) => Effect.die(new StartupError(`database error: ${e.message}: ${String(e.cause)}`))
    })
  )
})

runProcess("migrate", program)
