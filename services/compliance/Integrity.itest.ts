import { Effect, Either, Layer } from "effect"
import pg from "pg"
import { afterEach, describe, expect, it } from "vitest"
import { parseVerifierKey } from "../../shared/audit/Checkpoint.js"
import { generateSignerKey, parseSignerKey } from "../../shared/audit/CheckpointSigner.js"
import { newSubjectKey } from "../../shared/audit/SubjectCipher.js"
import { AuditLog, auditLogLayer } from "./AuditLog.js"
import { signCheckpointNow } from "./Checkpointer.js"
import { type IntegrityReport, verifyIntegrity, type Violation } from "./Integrity.js"
import { makeServiceMetrics, Metrics, type ServiceMetrics } from "../../shared/telemetry/Metrics.js"
import { subjectKeysLayer } from "./SubjectKeys.js"
import { asAttacker, createTestDb, pgLayer, type TestDb } from "./testing/AuditTestDb.js"

const ORIGIN = "brandme.test/integrity"
const keys = generateSignerKey(ORIGIN)
const signer = Either.getOrThrow(parseSignerKey(keys.signerKey))
const verifierKey = Either.getOrThrow(parseVerifierKey(keys.verifierKey))

const dbs: Array<TestDb> = []
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.drop()
})

/** A log of 100 distinct leaves with checkpoints at 60 and 100. */
const seededLog = async (): Promise<TestDb> => {
  const db = await createTestDb()
  dbs.push(db)
  const sql = pgLayer(db.url)
  const layer = auditLogLayer({ batchLingerMs: 1 }).pipe(
    Layer.provide(subjectKeysLayer(newSubjectKey())),
    Layer.provideMerge(sql)
  )
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const log = yield* AuditLog
        for (const [from, to] of [
          [0, 60],
          [60, 100]
        ] as const) {
          yield* Effect.forEach(
            Array.from({ length: to - from }, (_, i) => from + i),
            (i) => log.appendLeaf("test.entry", new TextEncoder().encode(`entry-${i}`), new Date()),
            { concurrency: 20 }
          )
          yield* signCheckpointNow(ORIGIN, signer)
        }
      }).pipe(Effect.provide(layer))
    )
  )
  return db
}

// Pages of 7 rows: every finding straddles page boundaries, as it would on a multi-million-entry log.
const integrity = (db: TestDb, seen: Array<Violation> = [], metrics = makeServiceMetrics("compliance")) =>
  Effect.runPromise(
    verifyIntegrity({ verifierKey, pageSize: 7, onViolation: (v) => Effect.sync(() => seen.push(v)) }).pipe(
      Effect.provide(pgLayer(db.url)),
      Effect.provideService(Metrics, metrics)
    )
  )

const escalations = async (db: TestDb) => {
  const c = new pg.Client({ connectionString: db.url })
  await c.connect()
  try {
    return (await c.query("SELECT kind, severity, subject, details FROM escalations ORDER BY created_at")).rows
  } finally {
    await c.end()
  }
}

const violationCount = async (metrics: ServiceMetrics, kind: string) =>
  (await metrics.m.auditIntegrityViolationsTotal.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0

const kinds = (r: IntegrityReport) => r.violations.map((v) => `${v.kind}@${v.index}`)

describe("verifyIntegrity", () => {
  it("passes an untouched log", async () => {
    const db = await seededLog()
    const r = await integrity(db)
    expect(r).toMatchObject({ ok: true, treeSize: 100, leafRows: 100, checkpointsChecked: 2, referenceTrusted: true })
    expect(r.violations).toEqual([])
    expect(await escalations(db)).toEqual([])
  })

  it("detects a modified leaf row (bytes and hash column rewritten together)", async () => {
    const db = await seededLog()
    await asAttacker(db.url, [
      "UPDATE audit_leaves SET leaf_bytes = '\\xdeadbeef', leaf_hash = sha256('\\x00deadbeef'::bytea) WHERE leaf_index = 42"
    ])
    const seen: Array<Violation> = []
    const metrics = makeServiceMetrics("compliance")
    const r = await integrity(db, seen, metrics)
    expect(kinds(r)).toEqual(["modified@42"])
    expect(seen.map((v) => v.kind)).toEqual(["modified"])
    expect(r.ok).toBe(false)
    expect(r.checkpointMismatches.map((m) => m.treeSize)).toEqual([60, 100])
    // The finding is raised: the metric by kind, and one critical escalation — not a second one on a re-run.
    expect(await violationCount(metrics, "modified")).toBe(1)
    expect(await violationCount(metrics, "checkpoint")).toBe(2)
    await integrity(db)
    const opened = await escalations(db)
    expect(opened).toHaveLength(1)
    expect(opened[0]).toMatchObject({
      kind: "audit_integrity_violation",
      severity: "critical",
      subject: "audit-log",
      details: { counts: { modified: 1 }, violations: [{ kind: "modified", index: 42 }] }
    })
  })

  it("detects a deleted leaf row", async () => {
    const db = await seededLog()
    await asAttacker(db.url, ["DELETE FROM audit_leaves WHERE leaf_index = 17"])
    const metrics = makeServiceMetrics("compliance")
    const r = await integrity(db, [], metrics)
    expect(kinds(r)).toEqual(["deleted@17"])
    expect(await violationCount(metrics, "deleted")).toBe(1)
    expect(r.checkpointMismatches.length).toBeGreaterThan(0)
  })

  it("detects an inserted leaf row (later rows renumbered) and one appended past the sequencer", async () => {
    const db = await seededLog()
    await asAttacker(db.url, [
      "UPDATE audit_leaves SET leaf_index = leaf_index + 1000000 WHERE leaf_index >= 30",
      "UPDATE audit_leaves SET leaf_index = leaf_index - 999999 WHERE leaf_index >= 1000000",
      "INSERT INTO audit_leaves VALUES (30, '\\x0102', sha256('\\x000102'::bytea), 'test.entry', now())",
      "INSERT INTO audit_leaves VALUES (500, '\\x0304', sha256('\\x000304'::bytea), 'test.entry', now())"
    ])
    const r = await integrity(db)
    expect(kinds(r)).toEqual(["inserted@30", "inserted@500"])
    expect(r.checkpointMismatches.length).toBeGreaterThan(0)
  })

  it("detects reordered leaf rows", async () => {
    const db = await seededLog()
    await asAttacker(db.url, [
      "UPDATE audit_leaves SET leaf_index = 1000000 WHERE leaf_index = 10",
      "UPDATE audit_leaves SET leaf_index = 10 WHERE leaf_index = 11",
      "UPDATE audit_leaves SET leaf_index = 11 WHERE leaf_index = 1000000"
    ])
    const r = await integrity(db)
    expect(kinds(r)).toEqual(["reordered@10", "reordered@11"])
    expect((await escalations(db))[0]).toMatchObject({ details: { counts: { reordered: 2 } } })
    expect(r.checkpointMismatches.length).toBeGreaterThan(0)
  })

  it("detects a truncated tail, even when the attacker also cuts the node table and the sequencer", async () => {
    const db = await seededLog()
    await asAttacker(db.url, ["DELETE FROM audit_leaves WHERE leaf_index >= 80"])
    expect(kinds(await integrity(db))).toEqual(["truncated@80"])
    await asAttacker(db.url, [
      "DELETE FROM audit_nodes WHERE node_index::numeric * 2 ^ level + 2 ^ level > 80",
      "UPDATE audit_tree_state SET tree_size = 80"
    ])
    const r = await integrity(db)
    expect(kinds(r)).toEqual(["truncated@80"])
    expect(r.violations[0]?.detail).toMatch(/^20 /)
    expect(r.checkpointMismatches.map((m) => m.treeSize)).toEqual([100])
  })

  it("finds nothing wrong in a log that grows while it is checked (its reads are one snapshot)", async () => {
    const db = await seededLog()
    const layer = auditLogLayer({ batchLingerMs: 1 }).pipe(
      Layer.provide(subjectKeysLayer(newSubjectKey())),
      Layer.provideMerge(pgLayer(db.url))
    )
    const reports = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const log = yield* AuditLog
          // appends land between the check's page reads (pages of 7): leaves, nodes and the tree state move on
          const appending = yield* Effect.fork(
            Effect.forEach(
              Array.from({ length: 400 }, (_, i) => i),
              (i) => log.appendLeaf("test.entry", new TextEncoder().encode(`late-${i}`), new Date()),
              { concurrency: 4 }
            )
          )
          const out: Array<IntegrityReport> = []
          for (let i = 0; i < 6; i++) out.push(yield* Effect.promise(() => integrity(db)))
          yield* appending.await
          out.push(yield* Effect.promise(() => integrity(db)))
          return out
        }).pipe(Effect.provide(layer))
      )
    )
    for (const r of reports)
      expect({ ok: r.ok, violations: kinds(r), checkpoints: r.checkpointMismatches }).toEqual({
        ok: true,
        violations: [],
        checkpoints: []
      })
    // the log did grow during the checks, and the last one saw all of it
    expect(reports.at(-1)!.treeSize).toBe(500)
    expect(await escalations(db)).toEqual([])
  })
})
