/**
 * SQL for the audit log (tables from migrations/sql/0002_audit_log.up.sql). BIGINT arrives as a string.
 * Every SqlError is wrapped once here into AuditStoreError.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Option, type ParseResult, Schema } from "effect"
import {
  appendNodes,
  type NodeId,
  nodesFor,
  type Range,
  rangeNodes,
  type SubtreeSource,
  type TreeHasher
} from "../../shared/audit/Merkle.js"
import { AuditStoreError } from "./AuditErrors.js"

export interface PendingLeaf {
  readonly bytes: Uint8Array
  readonly hash: Uint8Array
  readonly kind: string
  readonly recordedAt: Date
}

const Bigint = Schema.NumberFromString
const Bytes = Schema.Uint8ArrayFromSelf

const NodeRow = Schema.Struct({ level: Schema.Number, node_index: Bigint, hash: Bytes })
const SizeRow = Schema.Struct({ tree_size: Bigint })
export const LeafRow = Schema.Struct({
  leaf_index: Bigint,
  leaf_bytes: Bytes,
  leaf_hash: Bytes,
  kind: Schema.String,
  recorded_at: Schema.DateFromSelf
})
export type LeafRow = typeof LeafRow.Type
export const CheckpointRow = Schema.Struct({
  tree_size: Bigint,
  root: Bytes,
  note: Schema.String,
  created_at: Schema.DateFromSelf
})
export type CheckpointRow = typeof CheckpointRow.Type

const storeError =
  (operation: string) =>
  (e: SqlError | ParseResult.ParseError): AuditStoreError =>
    new AuditStoreError({ operation, message: e.message })

const decodeRows =
  <A, I>(schema: Schema.Schema<A, I>, operation: string) =>
  (rows: ReadonlyArray<unknown>) =>
    Schema.decodeUnknown(Schema.Array(schema))(rows).pipe(Effect.mapError(storeError(operation)))

const key = (level: number, index: number) => `${level}:${index}`

/**
 * Postgres array literals built directly: node-postgres serialises JS arrays element by element, which costs
 * more than the INSERT itself for 10k-row batches. Passed as text and cast in SQL (`::bigint[]`, `::bytea[]`).
 */
const pgArray = {
  ints: (ns: ReadonlyArray<number>) => `{${ns.join(",")}}`,
  bytea: (bs: ReadonlyArray<Uint8Array>) =>
    `{${bs.map((b) => `"\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}"`).join(",")}}`,
  text: (ss: ReadonlyArray<string>) => `{${ss.map((x) => `"${x.replace(/["\\]/g, "\\$&")}"`).join(",")}}`
}

/** Fetches the given stored nodes in one query; the map is keyed `level:index`. */
export const fetchNodes = (ids: ReadonlyArray<NodeId>) =>
  Effect.gen(function* () {
    const out = new Map<string, Uint8Array>()
    if (ids.length === 0) return out
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`
      SELECT n.level, n.node_index, n.hash
      FROM unnest(${pgArray.ints(ids.map((i) => i.level))}::smallint[], ${pgArray.ints(ids.map((i) => i.index))}::bigint[])
        AS k (level, node_index)
      JOIN audit_nodes n ON n.level = k.level AND n.node_index = k.node_index
    `.pipe(Effect.mapError(storeError("fetchNodes")), Effect.flatMap(decodeRows(NodeRow, "fetchNodes")))
    for (const r of rows) out.set(key(r.level, r.node_index), r.hash)
    return out
  })

/** A SubtreeSource over exactly the nodes `ranges` need, loaded with one query. */
export const sourceFor = (ranges: ReadonlyArray<Range>) =>
  Effect.map(
    fetchNodes(nodesFor(ranges)),
    (m): SubtreeSource =>
      (id) =>
        m.get(key(id.level, id.index))
  )

export const treeSize = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`SELECT tree_size FROM audit_tree_state WHERE id = 1`.pipe(
    Effect.mapError(storeError("treeSize")),
    Effect.flatMap(decodeRows(SizeRow, "treeSize"))
  )
  return rows[0]?.tree_size ?? 0
})

/**
 * The sequencer: one transaction locks the state row, takes the next contiguous indices, writes the leaves
 * and every perfect subtree they complete, and moves the size. Concurrent appenders (any process) queue on the
 * row lock, so indices never fork and a rolled-back batch leaves no gap.
 */
export const appendBatch = (leaves: ReadonlyArray<PendingLeaf>, hasher: TreeHasher) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const write = Effect.gen(function* () {
      const state = yield* sql`SELECT tree_size FROM audit_tree_state WHERE id = 1 FOR UPDATE`.pipe(
        Effect.flatMap(decodeRows(SizeRow, "appendBatch"))
      )
      const start = state[0]?.tree_size ?? 0
      const frontier = yield* fetchNodes(rangeNodes({ start: 0, end: start }))
      const created = appendNodes(
        start,
        leaves.map((l) => l.hash),
        (id) => frontier.get(key(id.level, id.index)),
        hasher
      )
      if (Either.isLeft(created))
        return yield* new AuditStoreError({
          operation: "appendBatch",
          message: `stored tree lacks frontier node ${created.left.level}:${created.left.index}`
        })
      yield* sql`
        INSERT INTO audit_leaves (leaf_index, leaf_bytes, leaf_hash, kind, recorded_at)
        SELECT * FROM unnest(
          ${pgArray.ints(leaves.map((_, i) => start + i))}::bigint[], ${pgArray.bytea(leaves.map((l) => l.bytes))}::bytea[],
          ${pgArray.bytea(leaves.map((l) => l.hash))}::bytea[], ${pgArray.text(leaves.map((l) => l.kind))}::text[],
          ${pgArray.text(leaves.map((l) => l.recordedAt.toISOString()))}::timestamptz[])
      `
      const nodes = created.right
      yield* sql`
        INSERT INTO audit_nodes (level, node_index, hash)
        SELECT * FROM unnest(${pgArray.ints(nodes.map((n) => n.level))}::smallint[],
          ${pgArray.ints(nodes.map((n) => n.index))}::bigint[], ${pgArray.bytea(nodes.map((n) => n.hash))}::bytea[])
      `
      yield* sql`UPDATE audit_tree_state SET tree_size = ${start + leaves.length}, updated_at = now() WHERE id = 1`
      return { start, size: start + leaves.length }
    })
    return yield* sql
      .withTransaction(write)
      .pipe(Effect.catchTag("SqlError", (e) => Effect.fail(storeError("appendBatch")(e))))
  })

export const leafAt = (index: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`
      SELECT leaf_index, leaf_bytes, leaf_hash, kind, recorded_at FROM audit_leaves WHERE leaf_index = ${index}
    `.pipe(Effect.mapError(storeError("leafAt")), Effect.flatMap(decodeRows(LeafRow, "leafAt")))
    return Option.fromNullable(rows[0])
  })

/** Leaves with index ≥ `after` in index order, `limit` at a time (keyset paging for the integrity job). */
export const leafPage = (after: number, limit: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`
      SELECT leaf_index, leaf_bytes, leaf_hash, kind, recorded_at FROM audit_leaves
      WHERE leaf_index >= ${after} ORDER BY leaf_index LIMIT ${limit}
    `.pipe(Effect.mapError(storeError("leafPage")), Effect.flatMap(decodeRows(LeafRow, "leafPage")))
  })

/** Stored level-0 hashes (what the sequencer wrote) with index ≥ `after`, for the integrity job. */
export const leafNodePage = (after: number, limit: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql`
      SELECT level, node_index, hash FROM audit_nodes
      WHERE level = 0 AND node_index >= ${after} ORDER BY node_index LIMIT ${limit}
    `.pipe(Effect.mapError(storeError("leafNodePage")), Effect.flatMap(decodeRows(NodeRow, "leafNodePage")))
  })

export const latestCheckpoint = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`
    SELECT tree_size, root, note, created_at FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1
  `.pipe(Effect.mapError(storeError("latestCheckpoint")), Effect.flatMap(decodeRows(CheckpointRow, "latestCheckpoint")))
  return Option.fromNullable(rows[0])
})

export const allCheckpoints = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* sql`SELECT tree_size, root, note, created_at FROM audit_checkpoints ORDER BY tree_size`.pipe(
    Effect.mapError(storeError("allCheckpoints")),
    Effect.flatMap(decodeRows(CheckpointRow, "allCheckpoints"))
  )
})

export const insertCheckpoint = (size: number, root: Uint8Array, note: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO audit_checkpoints (tree_size, root, note) VALUES (${size}, ${Buffer.from(root)}, ${note})`
  }).pipe(Effect.mapError(storeError("insertCheckpoint")))

/** Serialises checkpointers across processes for the rest of the current transaction. */
export const lockCheckpointer = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Arbitrary fixed key shared by every compliance process.
  yield* sql`SELECT pg_advisory_xact_lock(727002)`
}).pipe(Effect.mapError(storeError("lockCheckpointer")))
