import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either, Layer } from "effect"
import { Redis as IORedis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { migrateUp } from "../../migrations/Migrator.js"
import { AuditLog, auditLogLayer } from "../../services/compliance/AuditLog.js"
import { signCheckpointNow } from "../../services/compliance/Checkpointer.js"
import { subjectKeysLayer } from "../../services/compliance/SubjectKeys.js"
import { payloadDigest } from "../../shared/audit/AuditEntry.js"
import { toHex } from "../../shared/audit/Bytes.js"
import { generateSignerKey, parseSignerKey } from "../../shared/audit/CheckpointSigner.js"
import { hashChildren, hashLeaf, type NodeId, rootFrom } from "../../shared/audit/Merkle.js"
import { newSubjectKey } from "../../shared/audit/SubjectCipher.js"
import { appConfig, AppConfig } from "../../shared/config/AppConfig.js"
import { dropDatabase, ensureDatabase } from "../../shared/layers/Admin.js"
import { makeDatabaseLayer } from "../../shared/layers/Database.js"
import { loadDemoData } from "../DemoData.js"
import { withDatabaseClient } from "./DbInit.js"
import { expectedTables } from "./Tables.js"
import { runCliScript, testDbUrl, uniqueName } from "./testSupport.js"

/**
 * Backup → drop → restore with the real CLIs. The audit tree root is recomputed from the restored
 * leaves with the compliance engine's RFC 9162 functions (shared/audit/Merkle.ts) and compared with the
 * root before the backup and with the signed checkpoint; row counts of every table must match too.
 */
const dbName = uniqueName("brandme_t_backup")
const url = testDbUrl(dbName)
const dir = mkdtempSync(join(tmpdir(), "brandme-backups-"))
const ORIGIN = "brandme.test/audit"
const signer = Either.getOrThrow(parseSignerKey(generateSignerKey(ORIGIN).signerKey))

const db = () =>
  makeDatabaseLayer({
    url,
    poolMax: 4,
    idleTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    ssl: "disable",
    applicationName: "ops-backup-test"
  })

/** The Merkle root of the stored leaves, every node recomputed from the leaf bytes. */
const auditRoot = () =>
  withDatabaseClient(url, async (c) => {
    const rows = await c.query<{ leaf_bytes: Buffer }>("SELECT leaf_bytes FROM audit_leaves ORDER BY leaf_index")
    const leaves = rows.rows.map((r) => hashLeaf(new Uint8Array(r.leaf_bytes)))
    const memo = new Map<string, Uint8Array>()
    const node = (id: NodeId): Uint8Array | undefined => {
      if (id.level === 0) return leaves[id.index]
      const key = `${id.level}:${id.index}`
      const hit = memo.get(key)
      if (hit !== undefined) return hit
      const l = node({ level: id.level - 1, index: 2 * id.index })
      const r = node({ level: id.level - 1, index: 2 * id.index + 1 })
      if (l === undefined || r === undefined) return undefined
      const h = hashChildren(l, r)
      memo.set(key, h)
      return h
    }
    const checkpoint = await c.query<{ tree_size: string; root: Buffer }>(
      "SELECT tree_size, root FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1"
    )
    return {
      size: leaves.length,
      root: toHex(Either.getOrThrow(rootFrom(leaves.length, node))),
      checkpointRoot: checkpoint.rows[0] === undefined ? "" : toHex(new Uint8Array(checkpoint.rows[0].root))
    }
  })

const rowCounts = () =>
  withDatabaseClient(url, async (c) => {
    const out: Record<string, number> = {}
    for (const t of expectedTables())
      out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`)).rows[0]?.n)
    return out
  })

beforeAll(async () => {
  await ensureDatabase(url)
  const config = Effect.runSync(appConfig)
  const sql = db()
  const keys = subjectKeysLayer(newSubjectKey()).pipe(Layer.provide(sql))
  const layer = Layer.mergeAll(
    auditLogLayer({ batchLingerMs: 2 }).pipe(Layer.provide(keys)),
    AppConfig.layerWith(config)
  ).pipe(Layer.provideMerge(sql))
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        yield* migrateUp()
        yield* loadDemoData
        const log = yield* AuditLog
        yield* Effect.forEach(
          Array.from({ length: 37 }, (_, i) => i),
          (i) =>
            log.append({
              kind: "scan.recorded",
              actor: { _tag: "None" },
              subject: { _tag: "Public", id: `garment:${i}` },
              payloadDigest: payloadDigest({ i }),
              timeMs: 1_764_000_000_000 + i
            }),
          { concurrency: 8 }
        )
        yield* signCheckpointNow(ORIGIN, signer)
      }).pipe(Effect.provide(layer))
    )
  )
})

afterAll(async () => {
  await dropDatabase(url)
  rmSync(dir, { recursive: true, force: true })
})

describe("backup and restore", () => {
  it("round-trips the database: same row counts, same audit tree root", async () => {
    const before = { counts: await rowCounts(), audit: await auditRoot() }
    expect(before.audit.size).toBe(37)
    expect(before.audit.root).toBe(before.audit.checkpointRoot)
    expect(before.counts.users).toBe(4)

    // an expired backup of this database and someone else's file: retention deletes only the first
    writeFileSync(join(dir, `${dbName}-20200101T000000Z.dump`), "old")
    writeFileSync(join(dir, "other-20200101T000000Z.dump"), "not ours")
    const successKey = `${uniqueName("backup")}:last-success-seconds`
    const startedAt = Math.floor(Date.now() / 1000)
    const backup = await runCliScript("scripts/backup.ts", ["--retention-days", "30"], {
      DATABASE_URL: url,
      BACKUP_DIR: dir,
      BACKUP_BUCKET: "",
      REDIS_QUEUE_URL: "redis://127.0.0.1:6379",
      BACKUP_SUCCESS_KEY: successKey
    })
    expect(backup.stderr).toBe("")
    expect(backup.code).toBe(0)
    // the success is recorded where the redis exporter reads it (BackupStale)
    const redis = new IORedis("redis://127.0.0.1:6379")
    try {
      const recorded = Number(await redis.get(successKey))
      expect(recorded).toBeGreaterThanOrEqual(startedAt)
      expect(recorded).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
      expect(backup.stdout).toContain(`success recorded: ${successKey} = ${recorded}`)
    } finally {
      await redis.del(successKey)
      redis.disconnect()
    }
    expect(backup.stdout).toContain(`deleted ${dbName}-20200101T000000Z.dump`)
    const dumps = readdirSync(dir).filter((f) => f.startsWith(dbName))
    expect(dumps).toHaveLength(1)
    expect(dumps[0]).toMatch(new RegExp(`^${dbName}-\\d{8}T\\d{6}Z\\.dump$`))
    expect(readdirSync(dir)).toContain("other-20200101T000000Z.dump")

    await dropDatabase(url)
    const file = join(dir, dumps[0]!)
    const refused = await runCliScript("scripts/restore.ts", [file], { DATABASE_URL: url })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("pass --yes")

    const restore = await runCliScript("scripts/restore.ts", [file, "--yes"], { DATABASE_URL: url })
    expect(restore.stderr).toBe("")
    expect(restore.code).toBe(0)
    expect(restore.stdout).toContain(`created database "${dbName}"`)

    expect(await rowCounts()).toEqual(before.counts)
    const after = await auditRoot()
    expect(after).toEqual(before.audit)
  })
})
