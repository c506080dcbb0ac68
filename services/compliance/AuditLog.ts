/**
 * The audit log service: batched appends through the single SQL sequencer, proofs from stored subtree
 * hashes (O(log n) nodes, one query), and the JSON the audit endpoints return. The HTTP wiring is the lead's.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Either, Exit, Layer, Option, Runtime, type Scope } from "effect"
import { encodeLeaf } from "../../shared/audit/AuditEntry.js"
import { parseSignedCheckpoint } from "../../shared/audit/Checkpoint.js"
import {
  consistencyPlan,
  inclusionPlan,
  type InvalidTreeRequest,
  MissingSubtree,
  type NewNode,
  type Range,
  rangeHash
} from "../../shared/audit/Merkle.js"
import { type AuditEntry, type Party, sealEntry } from "../../shared/audit/SubjectCipher.js"
import { AuditEntryRejected, AuditNoCheckpoint, AuditRangeInvalid, AuditStoreError } from "./AuditErrors.js"
import * as Repo from "./AuditRepo.js"
import type { CheckpointView } from "./AuditViews.js"
import { nodeHasher } from "./NodeHasher.js"
import { makeProofReader, makeRunner, type ProofReader } from "./ProofReader.js"
import { SubjectKeys } from "./SubjectKeys.js"

export interface AuditLogOptions {
  /** Most entries one sequencer transaction writes. */
  readonly batchMaxEntries?: number
  /** How long the appender waits for more entries after the first one arrives. */
  readonly batchLingerMs?: number
  /** Stored nodes at this level and above are cached in memory (the levels every proof shares). */
  readonly cacheMinLevel?: number
  /** Most nodes the cache holds (32 bytes each, in flat per-level buffers). */
  readonly cacheMaxNodes?: number
  /** Connections of the proof endpoints' own pool (prepared statements; see ProofReader.ts). */
  readonly proofConnections?: number
}

/** An entry with its identity (e.g. `scan-<scan id>`): the log holds at most one leaf per key. */
export interface KeyedEntry {
  readonly key: string
  readonly entry: AuditEntry
}

/** Where a keyed entry is; `fresh` is false when an earlier append had already put it there. */
export interface AppendedEntry {
  readonly index: number
  readonly fresh: boolean
}

export interface Proof {
  readonly treeSize: number
  readonly root: Uint8Array
  readonly proof: ReadonlyArray<Uint8Array>
}

/** entryView and consistencyView are the proof reader's (the API's lean read path). */
export interface AuditLogShape extends ProofReader {
  /** Seals personal parties, encodes the canonical leaf and appends it; resolves to the leaf index. */
  readonly append: (entry: AuditEntry) => Effect.Effect<number, AuditEntryRejected | AuditStoreError>
  /**
   * Appends each entry once per key, in order, joining the group commit: the sequencer checks the keys in the
   * append transaction, so an entry handed in again (a retried job) answers with its existing leaf index.
   */
  readonly appendOnce: (
    entries: ReadonlyArray<KeyedEntry>
  ) => Effect.Effect<ReadonlyArray<AppendedEntry>, AuditEntryRejected | AuditStoreError>
  /** Appends already-encoded leaf bytes (the batcher's input; also the bulk path for imports and benchmarks). */
  readonly appendLeaf: (kind: string, leaf: Uint8Array, recordedAt: Date) => Effect.Effect<number, AuditStoreError>
  /**
   * Bulk path (imports, benchmarks): writes these leaves in one sequencer transaction, skipping the batcher.
   * Resolves to the first index and the new tree size.
   */
  readonly appendLeaves: (
    leaves: ReadonlyArray<{ readonly kind: string; readonly leaf: Uint8Array; readonly recordedAt: Date }>
  ) => Effect.Effect<{ readonly start: number; readonly size: number }, AuditStoreError>
  readonly treeSize: Effect.Effect<number, AuditStoreError>
  readonly root: (size: number) => Effect.Effect<Uint8Array, AuditRangeInvalid | AuditStoreError>
  readonly inclusionProof: (index: number, size: number) => Effect.Effect<Proof, AuditRangeInvalid | AuditStoreError>
  readonly consistencyProof: (
    from: number,
    to: number
  ) => Effect.Effect<Proof & { readonly fromRoot: Uint8Array }, AuditRangeInvalid | AuditStoreError>
  readonly checkpointView: Effect.Effect<CheckpointView, AuditNoCheckpoint | AuditStoreError>
}

export class AuditLog extends Context.Tag("brandme/compliance/AuditLog")<AuditLog, AuditLogShape>() {}

interface Pending {
  readonly leaf: Repo.PendingLeaf
  readonly resume: (index: number, fresh: boolean) => void
  readonly fail: (e: AuditStoreError) => void
}

/** Hex for the JSON views, on Node's native encoder (the shared one is a browser-safe loop). */
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

const normalise = (p: Party): Party => (p._tag === "Person" ? { ...p, subjectId: p.subjectId.toLowerCase() } : p)
const personIds = (e: AuditEntry) => [e.actor, e.subject].flatMap((p) => (p._tag === "Person" ? [p.subjectId] : []))

export const makeAuditLog = (
  options: AuditLogOptions = {}
): Effect.Effect<AuditLogShape, never, SqlClient.SqlClient | SubjectKeys | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* SubjectKeys
    // Under load the queue fills while a batch commits, so batches grow by themselves (group commit).
    const maxBatch = options.batchMaxEntries ?? 5000
    const linger = options.batchLingerMs ?? 5
    const withSql = Effect.provideService(SqlClient.SqlClient, sql)
    const cache = new Repo.NodeCache(options.cacheMinLevel ?? 6, options.cacheMaxNodes ?? 200_000)
    const remember = (nodes: ReadonlyArray<NewNode>) => cache.putAll(nodes)
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)

    /*
     * The batcher (group commit), kept out of the fiber machinery because it runs once per entry: waiting
     * entries sit in a plain array; an idle batcher starts a batch `linger` ms after the first one arrives,
     * and while a batch commits the next one fills, so batches grow with the load (up to `maxBatch`).
     * Each caller waits in Effect.async and is resumed with its index or the batch's error.
     */
    let pending: Array<Pending> = []
    let writing: Promise<void> | undefined
    let timer: ReturnType<typeof setTimeout> | undefined

    const settle = (batch: ReadonlyArray<Pending>, result: Either.Either<Repo.AppendedBatch, AuditStoreError>) => {
      if (Either.isRight(result))
        for (let i = 0; i < batch.length; i++) batch[i]!.resume(result.right.indexes[i]!, result.right.fresh[i]!)
      else for (const p of batch) p.fail(result.left)
    }
    // Appends are traced per batch (one span per sequencer transaction), not per entry: a span per entry
    // costs about as much as the rest of the append path together.
    const writeBatch = (batch: ReadonlyArray<Pending>) =>
      withSql(
        Repo.appendBatch(
          batch.map((p) => p.leaf),
          nodeHasher,
          remember
        )
      ).pipe(
        Effect.tap((r) =>
          Effect.annotateCurrentSpan({ "audit.batch.entries": batch.length, "audit.batch.start": r.start })
        ),
        Effect.withSpan("AuditLog.writeBatch", { captureStackTrace: false }),
        Effect.either
      )
    const flush = (): void => {
      timer = undefined
      if (writing !== undefined || pending.length === 0) return
      const batch = pending.length <= maxBatch ? pending : pending.slice(0, maxBatch)
      pending = pending.length <= maxBatch ? [] : pending.slice(maxBatch)
      writing = new Promise((resolve) => {
        runFork(writeBatch(batch)).addObserver((exit) => {
          settle(
            batch,
            Exit.isSuccess(exit)
              ? exit.value
              : Either.left(new AuditStoreError({ operation: "appendBatch", message: "batch write was interrupted" }))
          )
          writing = undefined
          resolve()
          // Entries that arrived during the write have waited long enough: write them now.
          flush()
        })
      })
    }
    const enqueue = (p: Pending): void => {
      pending.push(p)
      if (writing === undefined && timer === undefined) {
        if (linger > 0) timer = setTimeout(flush, linger)
        else queueMicrotask(flush)
      }
    }
    // On shutdown, let the running batch finish and write what is still waiting rather than dropping it.
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        if (timer !== undefined) clearTimeout(timer)
        timer = undefined
        while (writing !== undefined || pending.length > 0) {
          if (writing === undefined) flush()
          await writing
        }
      })
    )

    const enqueueLeaf = (kind: string, leaf: Uint8Array, recordedAt: Date) =>
      Effect.async<number, AuditStoreError>((resume) => {
        enqueue({
          leaf: { bytes: leaf, hash: nodeHasher.leaf(leaf), kind, recordedAt },
          resume: (index) => resume(Effect.succeed(index)),
          fail: (e) => resume(Effect.fail(e))
        })
      })

    const appendLeaf = enqueueLeaf

    /** Seals and encodes entries, looking every person's key up in one call. */
    const encodeAll = (raws: ReadonlyArray<AuditEntry>) =>
      Effect.gen(function* () {
        const entries = raws.map((raw) => ({ ...raw, actor: normalise(raw.actor), subject: normalise(raw.subject) }))
        const persons = [...new Set(entries.flatMap(personIds))]
        const keyMap = persons.length === 0 ? new Map<string, Uint8Array>() : yield* keys.keysFor(persons)
        const out: Array<{ readonly kind: string; readonly bytes: Uint8Array; readonly recordedAt: Date }> = []
        for (const entry of entries) {
          const sealed = yield* Either.mapLeft(
            sealEntry(entry, keyMap),
            (e) => new AuditEntryRejected({ message: e.reason })
          )
          const bytes = yield* Either.mapLeft(encodeLeaf(sealed), (e) => new AuditEntryRejected({ message: e.reason }))
          out.push({ kind: entry.kind, bytes, recordedAt: new Date(entry.timeMs) })
        }
        return out
      })

    const append = (raw: AuditEntry) =>
      Effect.flatMap(encodeAll([raw]), ([e]) => enqueueLeaf(e!.kind, e!.bytes, e!.recordedAt))

    // every entry joins the waiting batch in order (one batch when they fit), the caller resumed once all are in
    const appendOnce = (entries: ReadonlyArray<KeyedEntry>) =>
      Effect.flatMap(encodeAll(entries.map((e) => e.entry)), (encoded) =>
        Effect.async<ReadonlyArray<AppendedEntry>, AuditStoreError>((resume) => {
          const out: Array<AppendedEntry> = new Array(encoded.length)
          let left = encoded.length
          let failed = false
          if (left === 0) return resume(Effect.succeed(out))
          encoded.forEach((e, i) => {
            enqueue({
              leaf: {
                bytes: e.bytes,
                hash: nodeHasher.leaf(e.bytes),
                kind: e.kind,
                recordedAt: e.recordedAt,
                key: entries[i]!.key
              },
              resume: (index, fresh) => {
                out[i] = { index, fresh }
                if (--left === 0 && !failed) resume(Effect.succeed(out))
              },
              fail: (err) => {
                if (failed) return
                failed = true
                resume(Effect.fail(err))
              }
            })
          })
        })
      )

    const appendLeaves = (
      leaves: ReadonlyArray<{ readonly kind: string; readonly leaf: Uint8Array; readonly recordedAt: Date }>
    ) =>
      withSql(
        Repo.appendBatch(
          leaves.map((l) => ({ bytes: l.leaf, hash: nodeHasher.leaf(l.leaf), kind: l.kind, recordedAt: l.recordedAt })),
          nodeHasher,
          remember
        )
      ).pipe(Effect.withSpan("AuditLog.appendLeaves", { captureStackTrace: false }))

    const treeSize = withSql(Repo.treeSize)

    const rangeError = (e: InvalidTreeRequest) => new AuditRangeInvalid({ message: e.reason })
    // A missing node means the size is past the tree (the caller's error) or the store lost a node (ours).
    const missing = (size: number) => (e: MissingSubtree) =>
      Effect.flatMap(treeSize, (n) =>
        Effect.fail(
          size > n
            ? new AuditRangeInvalid({ message: `tree size ${size} is beyond the log (${n} entries)` })
            : new AuditStoreError({ operation: "proof", message: `stored node ${e.level}:${e.index} is missing` })
        )
      )

    /** Resolves the ranges of a plan plus the root range(s) with one node query. */
    const resolve = (ranges: ReadonlyArray<Range>, size: number) =>
      Effect.gen(function* () {
        const source = yield* withSql(Repo.sourceFor(ranges, cache))
        const out: Array<Uint8Array> = []
        for (const r of ranges) {
          const h = rangeHash(r, source, nodeHasher)
          if (Either.isLeft(h)) return yield* missing(size)(h.left)
          out.push(h.right)
        }
        return out
      })

    const root = (size: number) =>
      size < 0 || !Number.isSafeInteger(size)
        ? Effect.fail(new AuditRangeInvalid({ message: "tree size must be a non-negative integer" }))
        : Effect.map(resolve([{ start: 0, end: size }], size), (hs) => hs[0]!)

    const inclusionProof = (index: number, size: number) =>
      Effect.gen(function* () {
        const plan = yield* Either.mapLeft(inclusionPlan(index, size), rangeError)
        const hashes = yield* resolve([...plan, { start: 0, end: size }], size)
        return { treeSize: size, root: hashes[hashes.length - 1]!, proof: hashes.slice(0, -1) }
      }).pipe(Effect.withSpan("AuditLog.inclusionProof", { captureStackTrace: false }))

    const consistencyProof = (from: number, to: number) =>
      Effect.gen(function* () {
        const plan = yield* Either.mapLeft(consistencyPlan(from, to), rangeError)
        const hashes = yield* resolve([...plan, { start: 0, end: from }, { start: 0, end: to }], to)
        return {
          treeSize: to,
          fromRoot: hashes[hashes.length - 2]!,
          root: hashes[hashes.length - 1]!,
          proof: hashes.slice(0, -2)
        }
      }).pipe(Effect.withSpan("AuditLog.consistencyProof", { captureStackTrace: false }))

    const latest = Effect.flatMap(
      withSql(Repo.latestCheckpoint),
      Option.match({
        onNone: () => Effect.fail(new AuditNoCheckpoint({ message: "no checkpoint has been signed yet" })),
        onSome: Effect.succeed
      })
    )

    const checkpointView = Effect.gen(function* () {
      const cp = yield* latest
      const parsed = parseSignedCheckpoint(cp.note)
      return {
        origin: Either.isRight(parsed) ? parsed.right.checkpoint.origin : "",
        treeSize: cp.tree_size,
        rootHash: toHex(cp.root),
        note: cp.note,
        createdAt: cp.created_at.toISOString()
      }
    }).pipe(Effect.withSpan("AuditLog.checkpointView", { captureStackTrace: false }))

    // The API's read path (entries with inclusion proofs, consistency proofs): lean, one round trip each.
    const reader = makeProofReader(yield* makeRunner(options.proofConnections ?? 2), cache, (size, id) =>
      missing(size)(new MissingSubtree({ level: id.level, index: id.index }))
    )
    const entryView = reader.entryView
    const consistencyView = reader.consistencyView

    return AuditLog.of({
      append,
      appendOnce,
      appendLeaf,
      appendLeaves,
      treeSize,
      root,
      inclusionProof,
      consistencyProof,
      checkpointView,
      entryView,
      consistencyView
    })
  })

export const auditLogLayer = (options: AuditLogOptions = {}) => Layer.scoped(AuditLog, makeAuditLog(options))
