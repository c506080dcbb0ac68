import { spawn } from "node:child_process"
import { readdirSync, renameSync, rmSync, statSync } from "node:fs"
import { basename, join } from "node:path"
import { databaseName } from "../../shared/layers/Admin.js"
import { Backups } from "../../observability/topology.js"
import { errorText, fail } from "./Cli.js"

/**
 * Backups are `pg_dump --format=custom` files (compressed, restorable table by table) named
 * `<database>-<UTC timestamp>.dump`; the timestamp in the name, not the file's mtime, decides
 * retention, so a copied or re-uploaded file keeps its age.
 */
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

export const timestamp = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z")

export const backupFileName = (database: string, at: Date): string => `${database}-${timestamp(at)}.dump`

/** The time a backup was taken, from its name; undefined for files that are not this database's backups. */
export const backupTime = (database: string, file: string): Date | undefined => {
  const name = basename(file)
  const prefix = `${database}-`
  if (!name.startsWith(prefix) || !name.endsWith(".dump")) return undefined
  const m = STAMP.exec(name.slice(prefix.length, -".dump".length))
  if (m === null) return undefined
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
}

/** Backups of `database` older than `days` days at `now` (never the newest one, whatever its age). */
export const expiredBackups = (
  database: string,
  files: ReadonlyArray<string>,
  now: Date,
  days: number
): ReadonlyArray<string> => {
  const dated = files
    .map((f) => ({ f, at: backupTime(database, f) }))
    .filter((x): x is { f: string; at: Date } => x.at !== undefined)
    .sort((a, b) => b.at.getTime() - a.at.getTime())
  const cutoff = now.getTime() - days * 86_400_000
  return dated
    .slice(1)
    .filter((x) => x.at.getTime() < cutoff)
    .map((x) => x.f)
}

/** The connection for pg_* tools: the password goes through PGPASSWORD, never on the command line. */
export const pgToolConnection = (url: string): { readonly url: string; readonly env: NodeJS.ProcessEnv } => {
  const u = new URL(url)
  const password = decodeURIComponent(u.password)
  u.password = ""
  return { url: u.toString(), env: password === "" ? { ...process.env } : { ...process.env, PGPASSWORD: password } }
}

/** Runs a tool; resolves with stderr on exit 0, fails with the tool's stderr otherwise. */
export const runTool = (cmd: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env, stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString()
    })
    child.on("error", (e) => reject(e))
    child.on("close", (code) =>
      code === 0 ? resolve(stderr) : reject(new ToolFailed(cmd, code ?? -1, stderr.trim().split("\n").slice(-5)))
    )
  })

export class ToolFailed {
  readonly _tag = "ToolFailed"
  readonly message: string
  constructor(
    readonly tool: string,
    readonly code: number,
    readonly lastLines: ReadonlyArray<string>
  ) {
    this.message = `${tool} exited with ${code}: ${lastLines.join(" | ")}`
  }
}

const toolError = (e: unknown): string => (e instanceof ToolFailed ? e.message : errorText(e))

/** pg_dump into `dir`; written as `.partial` and renamed, so a failed dump never looks like a backup. */
export const dumpDatabase = async (url: string, dir: string, at: Date): Promise<{ file: string; bytes: number }> => {
  const file = join(dir, backupFileName(databaseName(url), at))
  const partial = `${file}.partial`
  const conn = pgToolConnection(url)
  try {
    await runTool(
      "pg_dump",
      ["--format=custom", "--compress=9", "--no-owner", "--no-privileges", `--file=${partial}`, `--dbname=${conn.url}`],
      conn.env
    )
  } catch (e) {
    rmSync(partial, { force: true })
    return fail(`pg_dump failed: ${toolError(e)}`)
  }
  renameSync(partial, file)
  return { file, bytes: statSync(file).size }
}

/** pg_restore into the database of `url` (replacing objects that exist), stopping at the first error. */
export const restoreDatabase = async (url: string, file: string): Promise<void> => {
  const conn = pgToolConnection(url)
  try {
    await runTool(
      "pg_restore",
      [
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        `--dbname=${conn.url}`,
        file
      ],
      conn.env
    )
  } catch (e) {
    fail(`pg_restore failed: ${toolError(e)}`)
  }
}

/** Deletes expired backups of `database` in `dir`; returns the deleted names. */
export const pruneBackups = (dir: string, database: string, now: Date, days: number): ReadonlyArray<string> => {
  const expired = expiredBackups(database, readdirSync(dir), now, days)
  for (const f of expired) rmSync(join(dir, f), { force: true })
  return expired
}

/** Uploads a backup to `gs://bucket/prefix/<name>` (credentials: Application Default Credentials). */
export const uploadBackup = async (file: string, bucket: string, prefix: string): Promise<string> => {
  const { Storage } = await import("@google-cloud/storage")
  const destination = `${prefix === "" ? "" : `${prefix.replace(/\/+$/, "")}/`}${basename(file)}`
  try {
    await new Storage().bucket(bucket).upload(file, {
      destination,
      resumable: true,
      metadata: { contentType: "application/octet-stream" }
    })
  } catch (e) {
    fail(`upload to gs://${bucket}/${destination} failed: ${errorText(e)}`)
  }
  return `gs://${bucket}/${destination}`
}

/**
 * The last successful backup, for Prometheus: `npm run backup` ends by writing its finish time (Unix seconds) to
 * this key of the queue Redis (noeviction, persistent), and the redis exporter watching that Redis exports it
 * as `redis_key_value{key="…"}` (`--check-single-keys`); `BackupStale` fires when it is older than the schedule
 * allows, or absent. Chosen over a Pushgateway: no new component to run and secure, and the value survives
 * restarts of everything but the queue Redis itself. `BACKUP_SUCCESS_KEY` moves it (tests).
 */
export const BackupSuccessKey = Backups.successKey

export const markBackupSuccess = async (redisUrl: string, key: string, at: Date): Promise<void> => {
  const { Redis } = await import("ioredis")
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false })
  try {
    await redis.connect()
    await redis.set(key, String(Math.floor(at.getTime() / 1000)))
  } catch (e) {
    fail(`recording the backup's success in Redis (${key}) failed: ${errorText(e)}`)
  } finally {
    redis.disconnect()
  }
}
