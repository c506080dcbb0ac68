import { Redacted } from "effect"
import { loadConfig, parseCommand, redactUrl, runCli } from "./ops/Cli.js"
import { initDatabase } from "./ops/DbInit.js"

const usage = `Usage: npm run db-init -- [--seed] [--no-seed] [--wait <seconds>] [--database-url <url>]

Prepares the platform database; safe to run any number of times (a second run changes nothing):
  1. waits for Postgres (retries every second, up to --wait seconds, default 60)
  2. creates the database named in DATABASE_URL when it is missing
  3. installs the extensions uuid-ossp and pgcrypto
  4. applies pending migrations (migrations/sql)
  5. loads the demo data when FEATURE_DEMO_DATA=true or --seed (never with --no-seed)
  6. checks every table the migrations declare exists

Configuration: DATABASE_URL (or --database-url), APP_ENV selects .env.<APP_ENV>.`

runCli("db-init", async () => {
  const { values } = parseCommand(
    {
      name: "db-init",
      usage,
      options: {
        seed: { type: "boolean" },
        "no-seed": { type: "boolean" },
        wait: { type: "string" },
        "database-url": { type: "string" }
      }
    },
    process.argv.slice(2)
  )
  const config = loadConfig()
  const url = values["database-url"] ?? Redacted.value(config.database.url)
  const waitSeconds = Number(values.wait ?? "60")
  const seed = values["no-seed"] === true ? false : values.seed === true || config.features.demoData
  process.stdout.write(`[db-init] ${redactUrl(url)} (${config.appEnv}), seed: ${seed ? "yes" : "no"}\n`)
  const report = await initDatabase({
    config,
    url,
    seed,
    waitTimeoutMs: Number.isFinite(waitSeconds) && waitSeconds > 0 ? waitSeconds * 1000 : 60_000
  })
  process.stdout.write(
    `[db-init] ready: database ${report.createdDatabase ? "created" : "existed"}, extensions created: ${
      report.extensionsCreated.length === 0 ? "none" : report.extensionsCreated.join(", ")
    }, migrations applied: ${report.migrationsApplied.length}, demo data: ${report.seeded}, ${report.tables} tables present\n`
  )
  return 0
})
