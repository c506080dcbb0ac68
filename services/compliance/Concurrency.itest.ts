import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, Either, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseVerifierKey, verifySignedCheckpoint } from "../../shared/audit/Checkpoint.js"
import { generateSignerKey, parseSignerKey } from "../../shared/audit/CheckpointSigner.js"
import { hashLeaf, verifyConsistencySync, verifyInclusionSync } from "../../shared/audit/Merkle.js"
import { newSubjectKey } from "../../shared/audit/SubjectCipher.js"
import { AuditLog, auditLogLayer } from "./AuditLog.js"
import * as Repo from "./AuditRepo.js"
import { signCheckpointNow } from "./Checkpointer.js"
import { verifyIntegrity } from "./Integrity.js"
import { subjectKeysLayer } from "./SubjectKeys.js"
import { createTestDb, pgLayer, type TestDb } from "./testing/AuditTestDb.js"

const WORKERS = 8
const PER_WORKER = 5_000
const TOTAL = WORKERS * PER_WORKER
const ORIGIN = "brandme.test/concurrency"
const keys = generateSignerKey(ORIGIN)
const signer = Either.getOrThrow(parseSignerKey(keys.signerKey))
const verifierKey = Either.getOrThrow(parseVerifierKey(keys.verifierKey))
const workerFile = fileURLToPath(new URL("./testing/appendWorker.ts", import.meta.url))

let db: TestDb
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.drop())

const runWorker = (id: number) =>
  new Promise<Array<number>>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", workerFile, db.url, String(id), String(PER_WORKER), keys.signerKey],
      {
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => {
      out += d
    })
    child.stderr.on("data", (d) => {
      err += d
    })
    child.on("exit", (code) => {
      const lines = out.split("\n")
      const marked = lines.find((l) => l.startsWith("INDICES "))
      // Other lines are the worker's logs (e.g. a checkpointer retry); show them, they are not failures.
      for (const l of lines) if (l.length > 0 && l !== marked) process.stdout.write(`worker ${id}: ${l}\n`)
      if (code !== 0 || marked === undefined) return reject(new Error(`worker ${id} exited ${code}: ${err}`))
      try {
        resolve(JSON.parse(marked.slice("INDICES ".length)))
      } catch (e) {
        reject(e)
      }
    })
  })

describe("audit log under concurrent appenders", () => {
  it(`${WORKERS} processes × ${PER_WORKER} appends make one gap-free tree whose proofs all verify`, async () => {
    const started = Date.now()
    const perWorker = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runWorker(i)))
    const elapsed = Date.now() - started
    const all = perWorker.flat().sort((a, b) => a - b)
    expect(all.length).toBe(TOTAL)
    expect(all.every((v, i) => v === i)).toBe(true)

    const layer = auditLogLayer().pipe(
      Layer.provide(subjectKeysLayer(newSubjectKey())),
      Layer.provideMerge(pgLayer(db.url))
    )
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const log = yield* AuditLog
          yield* signCheckpointNow(ORIGIN, signer)
          expect(yield* log.treeSize).toBe(TOTAL)
          const rows = yield* Repo.leafPage(0, TOTAL + 1)
          expect(rows.length).toBe(TOTAL)
          expect(rows.every((r, i) => r.leaf_index === i)).toBe(true)

          const checkpoints = yield* Repo.allCheckpoints
          expect(checkpoints.length).toBeGreaterThanOrEqual(3)
          const last = checkpoints[checkpoints.length - 1]!
          expect(last.tree_size).toBe(TOTAL)
          for (const cp of checkpoints) yield* verifySignedCheckpoint(cp.note, verifierKey)

          // Every consistency proof between consecutive checkpoints verifies against the signed roots.
          for (let i = 1; i < checkpoints.length; i++) {
            const a = checkpoints[i - 1]!
            const b = checkpoints[i]!
            const p = yield* log.consistencyProof(a.tree_size, b.tree_size)
            expect(Either.isRight(verifyConsistencySync(a.tree_size, b.tree_size, a.root, b.root, p.proof))).toBe(true)
          }

          // Inclusion proofs: first, last and 2,000 random leaves, against the final signed root.
          const sample = new Set([0, TOTAL - 1])
          while (sample.size < 2_002) sample.add(Math.floor(Math.random() * TOTAL))
          yield* Effect.forEach(
            sample,
            (index) =>
              Effect.map(log.inclusionProof(index, TOTAL), (p) => {
                const leafHash = hashLeaf(rows[index]!.leaf_bytes)
                expect(Either.isRight(verifyInclusionSync(index, TOTAL, leafHash, p.proof, last.root))).toBe(true)
              }),
            { concurrency: 4, discard: true }
          )
          const report = yield* verifyIntegrity({ verifierKey })
          expect(report.ok).toBe(true)
          yield* Effect.logInfo(
            `concurrency: ${TOTAL} appends from ${WORKERS} processes in ${elapsed} ms, ${checkpoints.length} checkpoints`
          )
        }).pipe(Effect.provide(layer))
      )
    )
  }, 1_200_000) // 8 tsx processes on a shared 2-core machine: start-up alone can take tens of seconds under load.
})
