import { Effect, Either, Exit, Layer, Option } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeLeaf, payloadDigest } from "../../shared/audit/AuditEntry.js"
import { fromHex, toHex } from "../../shared/audit/Bytes.js"
import { parseVerifierKey, verifySignedCheckpoint } from "../../shared/audit/Checkpoint.js"
import { generateSignerKey, parseSignerKey } from "../../shared/audit/CheckpointSigner.js"
import { hashLeaf, MemoryTree, verifyConsistencySync, verifyInclusionSync } from "../../shared/audit/Merkle.js"
import { newSubjectKey, openParty } from "../../shared/audit/SubjectCipher.js"
import { AuditLog, auditLogLayer, makeAuditLog } from "./AuditLog.js"
import { signCheckpointNow } from "./Checkpointer.js"
import { SubjectKeys, subjectKeysLayer } from "./SubjectKeys.js"
import { asAttacker, createTestDb, pgLayer, type TestDb } from "./testing/AuditTestDb.js"

const ORIGIN = "brandme.test/audit"
const keys = generateSignerKey(ORIGIN)
const signer = Either.getOrThrow(parseSignerKey(keys.signerKey))
const verifier = Either.getOrThrow(parseVerifierKey(keys.verifierKey))
const PERSON = "5b0c3a1e-9f2d-4e8a-b1c7-3d2e1f0a9b8c"
const MASTER = newSubjectKey()

let db: TestDb
beforeAll(async () => {
  db = await createTestDb()
})
afterAll(() => db?.drop())

const layer = () => {
  const sql = pgLayer(db.url)
  const subjectKeys = subjectKeysLayer(MASTER).pipe(Layer.provide(sql))
  return Layer.mergeAll(auditLogLayer({ batchLingerMs: 2 }).pipe(Layer.provide(subjectKeys)), subjectKeys).pipe(
    Layer.provideMerge(sql)
  )
}
const run = <A, E>(e: Effect.Effect<A, E, AuditLog | SubjectKeys | import("@effect/sql").SqlClient.SqlClient>) =>
  Effect.runPromise(Effect.scoped(e.pipe(Effect.provide(layer()))))

describe("AuditLog on Postgres", () => {
  it("appends batched entries, signs checkpoints and serves verifying proofs and JSON views", async () => {
    await run(
      Effect.gen(function* () {
        const log = yield* AuditLog
        const entries = Array.from({ length: 300 }, (_, i) => ({
          kind: "scan.recorded",
          actor:
            i % 3 === 0
              ? { _tag: "Person" as const, subjectId: PERSON, id: "person:alice" }
              : { _tag: "None" as const },
          subject: { _tag: "Public" as const, id: `garment:${i}` },
          payloadDigest: payloadDigest({ i }),
          timeMs: 1_764_000_000_000 + i
        }))
        const indices = yield* Effect.forEach(entries.slice(0, 120), (e) => log.append(e), { concurrency: "unbounded" })
        expect([...indices].sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i))
        const first = yield* signCheckpointNow(ORIGIN, signer)
        // A view against checkpoint 120; the views below come after checkpoint 300 (the proof is planned anew).
        const early = yield* log.entryView(5)
        expect(early.treeSize).toBe(120)
        expect(early.rootHash).toBe(Option.match(first, { onNone: () => "", onSome: (c) => toHex(c.root) }))
        yield* Effect.forEach(entries.slice(120), (e) => log.append(e), { concurrency: 50 })
        const second = yield* signCheckpointNow(ORIGIN, signer)
        expect(Option.map(first, (c) => c.treeSize)).toEqual(Option.some(120))
        expect(Option.map(second, (c) => c.treeSize)).toEqual(Option.some(300))
        // Nothing new → no new checkpoint.
        expect(Option.isNone(yield* signCheckpointNow(ORIGIN, signer))).toBe(true)

        const cp = yield* log.checkpointView
        expect(cp).toMatchObject({ origin: ORIGIN, treeSize: 300 })
        const body = yield* verifySignedCheckpoint(cp.note, verifier)
        expect(body.treeSize).toBe(300)

        for (const index of [0, 1, 119, 120, 255, 299]) {
          const v = yield* log.entryView(index)
          const proof = v.inclusionProof.map((h) => fromHex(h)!)
          const leafHash = hashLeaf(fromHex(v.leafData)!)
          expect(Either.isRight(verifyInclusionSync(index, 300, leafHash, proof, body.rootHash))).toBe(true)
        }
        const c = yield* log.consistencyView(120, 300)
        const ok = verifyConsistencySync(
          120,
          300,
          fromHex(c.fromRoot)!,
          fromHex(c.toRoot)!,
          c.proof.map((h) => fromHex(h)!)
        )
        expect(Either.isRight(ok)).toBe(true)
        expect(c.toRoot).toBe(cp.rootHash)

        const bad = yield* Effect.exit(log.consistencyView(0, 300))
        expect(Exit.isFailure(bad)).toBe(true)
        const beyond = yield* Effect.either(log.inclusionProof(5, 301))
        expect(Either.isLeft(beyond) && beyond.left._tag).toBe("AuditRangeInvalid")
        const notYet = yield* Effect.either(log.entryView(300))
        expect(Either.isLeft(notYet) && notYet.left._tag).toBe("AuditEntryNotFound")
      })
    )
  })

  it("crypto-shredding: erasing a subject's key keeps leaf bytes and proofs, and makes the name unreadable", async () => {
    await run(
      Effect.gen(function* () {
        const log = yield* AuditLog
        const subjectKeys = yield* SubjectKeys
        // Appends were concurrent: find a leaf whose actor is the sealed person.
        let index = 0
        let before = yield* log.entryView(index)
        while (Either.getOrThrow(decodeLeaf(fromHex(before.leafData)!)).actor._tag !== "Sealed")
          before = yield* log.entryView(++index)
        const sealed = Either.getOrThrow(decodeLeaf(fromHex(before.leafData)!))
        const key = (yield* subjectKeys.existingKeys([PERSON])).get(PERSON)
        expect(openParty(sealed.actor, "actor", key)).toMatchObject({ _tag: "Person", id: "person:alice" })

        yield* subjectKeys.erase(PERSON)
        const after = yield* log.entryView(index)
        expect(after.leafData).toBe(before.leafData)
        expect(after.inclusionProof).toEqual(before.inclusionProof)
        expect((yield* subjectKeys.existingKeys([PERSON])).has(PERSON)).toBe(false)
        expect(openParty(sealed.actor, "actor", undefined)._tag).toBe("Erased")
        // A person whose key is erased cannot be written again under that key.
        const refused = yield* Effect.either(
          log.append({
            kind: "scan.recorded",
            actor: { _tag: "Person", subjectId: PERSON, id: "person:alice" },
            subject: { _tag: "None" },
            payloadDigest: payloadDigest({}),
            timeMs: 0
          })
        )
        expect(Either.isLeft(refused) && refused.left._tag).toBe("AuditEntryRejected")
      })
    )
  })

  it("refuses to sign a checkpoint that is inconsistent with the last one", async () => {
    // An attacker rewrites the stored subtree [0, 256) of the signed 300-leaf tree, then one more entry arrives:
    // the consistency proof 300 → 301 needs that node, so signing must stop.
    await asAttacker(db.url, ["UPDATE audit_nodes SET hash = sha256(hash) WHERE level = 8 AND node_index = 0"])
    await run(
      Effect.gen(function* () {
        const log = yield* AuditLog
        yield* log.appendLeaf("test.entry", new Uint8Array([1, 2, 3]), new Date())
        const r = yield* Effect.either(signCheckpointNow(ORIGIN, signer))
        expect(Either.isLeft(r) ? r.left.message : "signed").toMatch(/not consistent/)
      })
    )
  })

  it("appends onto a log from before the frontier column (frontier loaded from the nodes once, then kept)", async () => {
    const fresh = await createTestDb()
    try {
      const sql = pgLayer(fresh.url)
      const layer = auditLogLayer({ batchLingerMs: 1 }).pipe(
        Layer.provide(subjectKeysLayer(MASTER)),
        Layer.provideMerge(sql)
      )
      const data = (i: number) => new TextEncoder().encode(`frontier-${i}`)
      const appendRange = (from: number, to: number) =>
        Effect.scoped(
          Effect.gen(function* () {
            const log = yield* AuditLog
            for (let i = from; i < to; i++) yield* log.appendLeaf("test.entry", data(i), new Date())
            return yield* log.root(to)
          }).pipe(Effect.provide(layer))
        )
      await Effect.runPromise(appendRange(0, 37))
      await asAttacker(fresh.url, ["UPDATE audit_tree_state SET frontier = NULL"])
      const root = await Effect.runPromise(appendRange(37, 70))
      const reference = new MemoryTree()
      for (let i = 0; i < 70; i++) reference.append(data(i))
      expect(toHex(root)).toBe(toHex(Either.getOrThrow(reference.root())))
      const c = new pg.Client({ connectionString: fresh.url })
      await c.connect()
      const state = (await c.query("SELECT tree_size, octet_length(frontier) AS n FROM audit_tree_state")).rows[0]
      await c.end()
      // 70 = 64 + 4 + 2: three perfect subtrees on the right frontier.
      expect(state).toEqual({ tree_size: "70", n: 96 })
    } finally {
      await fresh.drop()
    }
  })

  it("serves every entry and consistency view from a cold reader (cache misses, ragged edges) and they all verify", async () => {
    const fresh = await createTestDb()
    try {
      const sql = pgLayer(fresh.url)
      const data = (i: number) => new TextEncoder().encode(`view-${i}`)
      // The appender caches what it writes; the reader is another instance (as in another process): cold cache,
      // a low cache level so upper nodes are read, cached and then served from the cache on later calls.
      const appender = auditLogLayer({ batchLingerMs: 1, batchMaxEntries: 17 }).pipe(
        Layer.provide(subjectKeysLayer(MASTER)),
        Layer.provideMerge(sql)
      )
      const reader = auditLogLayer({ cacheMinLevel: 2, cacheMaxNodes: 40 }).pipe(
        Layer.provide(subjectKeysLayer(MASTER)),
        Layer.provideMerge(sql)
      )
      const sizes = [1, 2, 3, 77, 200]
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const log = yield* AuditLog
            let at = 0
            for (const size of sizes) {
              yield* Effect.forEach(
                Array.from({ length: size - at }, (_, k) => at + k),
                (i) => log.appendLeaf("test.entry", data(i), new Date()),
                { concurrency: 8, discard: true }
              )
              at = size
              yield* signCheckpointNow(ORIGIN, signer)
            }
          }).pipe(Effect.provide(appender))
        )
      )
      const leaves = new Map<number, Uint8Array>()
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const log = yield* AuditLog
            const roots = new Map<number, Uint8Array>()
            for (const size of sizes) roots.set(size, yield* log.root(size))
            const root = roots.get(200)!
            for (let pass = 0; pass < 2; pass++)
              for (let i = 0; i < 200; i++) {
                const v = yield* log.entryView(i)
                const leafHash = hashLeaf(fromHex(v.leafData)!)
                leaves.set(i, fromHex(v.leafData)!)
                expect(v.treeSize).toBe(200)
                expect(v.rootHash).toBe(toHex(root))
                expect(v.leafHash).toBe(toHex(leafHash))
                const ok = verifyInclusionSync(
                  i,
                  200,
                  leafHash,
                  v.inclusionProof.map((h) => fromHex(h)!),
                  root
                )
                expect(Either.isRight(ok), `inclusion ${i} (pass ${pass})`).toBe(true)
              }
            // Many calls in flight at once share the reader's few connections (each runs one statement at a time).
            const together = yield* Effect.forEach(
              Array.from({ length: 200 }, (_, i) => 199 - i),
              (i) => Effect.map(log.entryView(i), (v) => ({ i, v })),
              { concurrency: 40 }
            )
            for (const { i, v } of together) {
              const leafHash = hashLeaf(fromHex(v.leafData)!)
              const ok = verifyInclusionSync(
                i,
                200,
                leafHash,
                v.inclusionProof.map((h) => fromHex(h)!),
                root
              )
              expect(Either.isRight(ok), `concurrent inclusion ${i}`).toBe(true)
            }
            for (const to of sizes)
              for (let from = 1; from <= to; from++) {
                const c = yield* log.consistencyView(from, to)
                expect(c.toRoot).toBe(toHex(roots.get(to)!))
                const ok = verifyConsistencySync(
                  from,
                  to,
                  fromHex(c.fromRoot)!,
                  roots.get(to)!,
                  c.proof.map((h) => fromHex(h)!)
                )
                expect(Either.isRight(ok), `consistency ${from}→${to}`).toBe(true)
              }
            // Out of range: a 4xx-kind error, never a store error.
            const beyond = yield* Effect.either(log.consistencyView(5, 201))
            expect(Either.isLeft(beyond) ? beyond.left._tag : "ok").toBe("AuditRangeInvalid")
            const none = yield* Effect.either(log.consistencyView(0, 10))
            expect(Either.isLeft(none) ? none.left._tag : "ok").toBe("AuditRangeInvalid")
            const past = yield* Effect.either(log.entryView(200))
            expect(Either.isLeft(past) ? past.left._tag : "ok").toBe("AuditEntryNotFound")
          }).pipe(Effect.provide(reader))
        )
      )
      for (let i = 0; i < 200; i++) expect(toHex(leaves.get(i)!)).toBe(toHex(data(i)))
    } finally {
      await fresh.drop()
    }
  })
  it("appends a keyed entry once: a retried append, a key twice in a batch and a second appender get the same leaf", async () => {
    const entry = (i: number) => ({
      key: `once-${i}`,
      entry: {
        kind: "scan.recorded",
        actor: { _tag: "None" as const },
        subject: { _tag: "Public" as const, id: `garment:once-${i}` },
        payloadDigest: payloadDigest({ once: i }),
        timeMs: 1_764_100_000_000 + i
      }
    })
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const log = yield* AuditLog
          const before = yield* log.treeSize
          // keys 0..3, with key 2 twice in the same call (the same group commit)
          const first = yield* log.appendOnce([0, 1, 2, 2, 3].map(entry))
          expect(first.map((a) => a.index)).toEqual([before, before + 1, before + 2, before + 2, before + 3])
          expect(first.map((a) => a.fresh)).toEqual([true, true, true, false, true])
          // the retry of a job that died after the commit: the same leaves, nothing appended; new keys still are
          const retry = yield* log.appendOnce([0, 1, 2, 3, 4].map(entry))
          expect(retry.map((a) => a.index)).toEqual([before, before + 1, before + 2, before + 3, before + 4])
          expect(retry.map((a) => a.fresh)).toEqual([false, false, false, false, true])
          // two appenders (two processes' sequencers) racing on overlapping keys
          const other = yield* makeAuditLog({ batchLingerMs: 2 })
          const [a, b] = yield* Effect.all(
            [log.appendOnce([5, 6, 7].map(entry)), other.appendOnce([7, 6, 5, 8].map(entry))],
            { concurrency: 2 }
          )
          const byKey = new Map<number, number>()
          for (const [i, k] of [5, 6, 7].entries()) byKey.set(k, a[i]!.index)
          for (const [i, k] of [7, 6, 5].entries()) expect(b[i]!.index).toBe(byKey.get(k))
          expect(a.filter((x) => x.fresh).length + b.filter((x) => x.fresh).length).toBe(4)
          expect(yield* log.treeSize).toBe(before + 9)
        })
      )
    )
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    try {
      const r = await c.query(
        "SELECT idempotency_key, count(*)::int AS n FROM audit_leaves WHERE idempotency_key LIKE 'once-%' GROUP BY 1"
      )
      expect(r.rows).toHaveLength(9)
      expect(r.rows.every((x: { n: number }) => x.n === 1)).toBe(true)
    } finally {
      await c.end()
    }
  })
})
