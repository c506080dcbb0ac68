import { existsSync } from "node:fs"
import { createInterface } from "node:readline/promises"
import { Redacted } from "effect"
import { databaseName, ensureDatabase } from "../shared/layers/Admin.js"
import { restoreDatabase } from "./ops/Backup.js"
import { fail, info, loadConfig, parseCommand, redactUrl, runCli, step } from "./ops/Cli.js"

const usage = `Usage: npm run restore -- <backup.dump> [--database <name>] [--yes]

Restores a backup made by \`npm run backup\` into a database on the DATABASE_URL server:
existing objects are dropped and recreated, in one transaction (any error leaves the database as it was).
The database is created when missing.

  --database  target database name (default: the one in DATABASE_URL)
  --yes       do not ask; required when stdin is not a terminal`

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

runCli("restore", async () => {
  const { values, positionals } = parseCommand(
    { name: "restore", usage, options: { database: { type: "string" }, yes: { type: "boolean", short: "y" } } },
    process.argv.slice(2)
  )
  const file = positionals[0] ?? fail(`missing the backup file\n\n${usage}`)
  if (!existsSync(file)) fail(`no such backup file: ${file}`)
  const config = loadConfig()
  const base = new URL(Redacted.value(config.database.url))
  if (values.database !== undefined) {
    if (!IDENT.test(values.database)) fail(`--database must be a plain identifier, got "${values.database}"`)
    base.pathname = `/${values.database}`
  }
  const url = base.toString()
  const target = databaseName(url)

  if (values.yes !== true) {
    if (!process.stdin.isTTY) fail("refusing to restore without confirmation: stdin is not a terminal, pass --yes")
    const rl = createInterface({ input: process.stdin, output: process.stdout })
    const answer = await rl.question(
      `This replaces every table of database "${target}" on ${redactUrl(url)} with ${file}.\nType the database name to continue: `
    )
    rl.close()
    if (answer.trim() !== target) fail("not confirmed; nothing changed")
  }
  const created = await ensureDatabase(url)
  if (created) info("restore", `created database "${target}"`)
  await step("restore", `pg_restore ${file} → ${target}`, () => restoreDatabase(url, file))
  info("restore", `restored "${target}"`)
  return 0
})
