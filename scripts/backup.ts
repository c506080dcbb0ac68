import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { Option, Redacted } from "effect"
import { databaseName } from "../shared/layers/Admin.js"
import { BackupSuccessKey, dumpDatabase, markBackupSuccess, pruneBackups, uploadBackup } from "./ops/Backup.js"
import { fail, info, loadConfig, parseCommand, redactUrl, runCli, step } from "./ops/Cli.js"

const usage = `Usage: npm run backup -- [--dir <path>] [--retention-days <n>] [--bucket <name>] [--prefix <path>]

Dumps the platform database with pg_dump (custom format, compressed) to
  <dir>/<database>-<UTC timestamp>.dump
then deletes this database's backups in <dir> older than the retention (the newest is always kept),
and uploads the new file to Google Cloud Storage when a bucket is set. Last, it records its finish time
(Unix seconds) in the queue Redis (REDIS_QUEUE_URL, else REDIS_URL) under BACKUP_SUCCESS_KEY
(default ${BackupSuccessKey}): the redis exporter exports it, BackupStale alerts on its age.

  --dir             BACKUP_DIR, default ./backups
  --retention-days  BACKUP_RETENTION_DAYS, default 30
  --bucket          BACKUP_BUCKET (unset: no upload); credentials from Application Default Credentials
  --prefix          BACKUP_PREFIX inside the bucket, default postgres/<APP_ENV>
Configuration: DATABASE_URL, APP_ENV selects .env.<APP_ENV>.`

runCli("backup", async () => {
  const { values } = parseCommand(
    {
      name: "backup",
      usage,
      options: {
        dir: { type: "string" },
        "retention-days": { type: "string" },
        bucket: { type: "string" },
        prefix: { type: "string" }
      }
    },
    process.argv.slice(2)
  )
  const config = loadConfig()
  const url = Redacted.value(config.database.url)
  const dir = resolve(values.dir ?? process.env.BACKUP_DIR ?? "backups")
  const days = Number(values["retention-days"] ?? process.env.BACKUP_RETENTION_DAYS ?? "30")
  if (!Number.isInteger(days) || days < 1) fail(`retention must be a whole number of days ≥ 1, got "${days}"`)
  const bucket = values.bucket ?? process.env.BACKUP_BUCKET ?? ""
  const prefix = values.prefix ?? process.env.BACKUP_PREFIX ?? `postgres/${config.appEnv}`

  mkdirSync(dir, { recursive: true })
  info("backup", `${redactUrl(url)} → ${dir}`)
  const { file, bytes } = await step("backup", "pg_dump", () => dumpDatabase(url, dir, new Date()))
  info("backup", `wrote ${file} (${(bytes / 1024).toFixed(1)} KiB)`)
  const pruned = pruneBackups(dir, databaseName(url), new Date(), days)
  info("backup", pruned.length === 0 ? `retention ${days} days: nothing to delete` : `deleted ${pruned.join(", ")}`)
  if (bucket !== "") {
    const where = await step("backup", `upload to gs://${bucket}`, () => uploadBackup(file, bucket, prefix))
    info("backup", `uploaded ${where}`)
  } else {
    info("backup", "BACKUP_BUCKET not set: kept locally only")
  }
  const redisUrl = Redacted.value(Option.getOrElse(config.redis.queueUrl, () => config.redis.url))
  const key = process.env.BACKUP_SUCCESS_KEY ?? BackupSuccessKey
  const at = new Date()
  await step("backup", `record success in ${redactUrl(redisUrl)} ${key}`, () => markBackupSuccess(redisUrl, key, at))
  info("backup", `success recorded: ${key} = ${Math.floor(at.getTime() / 1000)}`)
  return 0
})
