/**
 * SQL for the audit log (tables from migrations/sql/0002_audit_log.up.sql). BIGINT arrives as a string.
 * Every SqlError is wrapped once here into AuditStoreError.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, type ParseResult, Schema } from "effect"
import {
  appendToFrontier,
  frontierLength,
  type NewNode,
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
  /** the entry's identity (e.g. `scan-<id>`): a key already in the log is not appended again */
  readonly key?: string | undefined
}

const Bigint = Schema.NumberFromString
const Bytes = Schema.Uint8ArrayFromSelf

const NodeRow = Schema.Struct({ level: Schema.Number, node_index: Bigint, hash: Bytes })
const SizeRow = Schema.Struct({ tree_size: Bigint })
const KeyRow = Schema.Struct({ idempotency_key: Schema.String, leaf_index: Bigint })
const StateRow = Schema.Struct({ tree_size: Bigint, frontier: Schema.NullOr(Bytes) })
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

/** a failed statement or row decode as compliance's store error, named by its operation */
export const storeError =
  (operation: string) =>
  (e: SqlError | ParseResult.ParseError): AuditStoreError =>
    new AuditStoreError({ operation, message: e.message })

// One compiled decoder per row schema: building `Schema.Array(schema)` and its parser on every query cost more
// than the query on the proof path.
const decoders = new WeakMap<object, (rows: unknown) => Effect.Effect<ReadonlyArray<unknown>, ParseResult.ParseError>>()

const decodeRows = <A, I>(schema: Schema.Schema<A, I>, operation: string) => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknown(Schema.Array(schema))
    decoders.set(schema, decode)
  }
  const run = decode as (rows: unknown) => Effect.Effect<ReadonlyArray<A>, ParseResult.ParseError>
  return (rows: ReadonlyArray<unknown>) => run(rows).pipe(Effect.mapError(storeError(operation)))
}

const key = (level: number, index: number) => `${level}:${index}`

/**
 * Postgres array literals built directly: node-postgres serialises JS arrays element by element, which costs
 * more than the INSERT itself for 10k-row batches. Passed as text and cast in SQL (`::bigint[]`, `::bytea[]`).
 */
const pgArray = {
  ints: (ns: ReadonlyArray<number>) => `{${ns.join(",")}}`,
  bytea: (bs: ReadonlyArray<Uint8Array>) =>
    `{${bs.map((b) => `"\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}"`).join(",")}}`,
  text: (ss: ReadonlyArray<string | undefined>) =>
    `{${ss.map((x) => (x === undefined ? "NULL" : `"${x.replace(/["\\]/g, "\\$&")}"`)).join(",")}}`
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

/**
 * A bounded cache of stored nodes in flat buffers: one Buffer per level (32 bytes per node, at `index · 32`) and a
 * byte per node saying it is filled. Stored nodes never change (append-only, position-addressed), so a cached hash
 * is never stale; only levels `minLevel` and up are kept — the upper levels every proof shares, n / 2^minLevel
 * nodes in all, so 31,250 (1 MB) for a 1,000,000-entry log at level 6. A level grows by doubling; past
 * `maxNodes` slots in all nothing more is cached (no eviction: the cache only ever misses, it never churns).
 * Reads hand out offsets into the level's buffer, so a proof hash is hex-encoded straight from it.
 */
export class NodeCache {
  private readonly hashes: Array<Buffer | undefined> = []
  private readonly filled: Array<Uint8Array | undefined> = []
  private slots = 0
  private count = 0
  constructor(
    readonly minLevel = 6,
    private readonly maxNodes = 200_000
  ) {}
  /** Nodes held. */
  get size(): number {
    return this.count
  }
  /** The buffer of a level (valid for offsets `offset` returned). */
  buffer(level: number): Buffer {
    return this.hashes[level]!
  }
  /** Byte offset of node (level, index) in `buffer(level)`, or -1 when it is not cached. */
  offset(level: number, index: number): number {
    if (level < this.minLevel) return -1
    const f = this.filled[level]
    return f !== undefined && index < f.length && f[index] === 1 ? index * 32 : -1
  }
  get(id: NodeId): Uint8Array | undefined {
    const at = this.offset(id.level, id.index)
    return at < 0 ? undefined : this.hashes[id.level]!.subarray(at, at + 32)
  }
  /** Caches node (level, index) from 32 bytes of `src` at `from`. */
  put(level: number, index: number, src: Uint8Array, from = 0): void {
    if (level < this.minLevel || level > 62 || !Number.isSafeInteger(index) || index < 0) return
    let f = this.filled[level]
    if (f === undefined || index >= f.length) {
      const had = f?.length ?? 0
      const want = Math.max(1024, had * 2, index + 1)
      const grown = Math.min(want, had + this.maxNodes - this.slots)
      if (grown <= index) return
      const h = Buffer.alloc(grown * 32)
      const g = new Uint8Array(grown)
      if (f !== undefined) {
        this.hashes[level]!.copy(h)
        g.set(f)
      }
      this.hashes[level] = h
      this.filled[level] = g
      this.slots += grown - had
      f = g
    }
    if (f[index] === 1) return
    this.hashes[level]!.set(src.subarray(from, from + 32), index * 32)
    f[index] = 1
    this.count++
  }
  /** Nodes a committed sequencer transaction wrote. */
  putAll(nodes: ReadonlyArray<NewNode>): void {
    for (const n of nodes) if (n.level >= this.minLevel) this.put(n.level, n.index, n.hash)
  }
}

/** The nodes `ranges` need, split into those the cache holds and those to load. */
export const planNodes = (ranges: ReadonlyArray<Range>, cache?: NodeCache) => {
  const hit = new Map<string, Uint8Array>()
  const miss: Array<NodeId> = []
  for (const id of nodesFor(ranges)) {
    const h = cache?.get(id)
    if (h === undefined) miss.push(id)
    else hit.set(key(id.level, id.index), h)
  }
  return { hit, miss }
}

/** A SubtreeSource over cached plus loaded nodes; loaded ones join the cache. */
export const sourceOf = (
  plan: ReturnType<typeof planNodes>,
  fetched: ReadonlyMap<string, Uint8Array>,
  cache?: NodeCache
): SubtreeSource => {
  if (cache !== undefined)
    for (const id of plan.miss) {
      const h = fetched.get(key(id.level, id.index))
      if (h !== undefined) cache.put(id.level, id.index, h)
    }
  return (id) => {
    const k = key(id.level, id.index)
    return plan.hit.get(k) ?? fetched.get(k)
  }
}

/** A SubtreeSource over exactly the nodes `ranges` need: cached ones, the rest loaded with one query. */
export const sourceFor = (ranges: ReadonlyArray<Range>, cache?: NodeCache) =>
  Effect.gen(function* () {
    const plan = planNodes(ranges, cache)
    return sourceOf(plan, yield* fetchNodes(plan.miss), cache)
  })

export const treeSize = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`SELECT tree_size FROM audit_tree_state WHERE id = 1`.pipe(
    Effect.mapError(storeError("treeSize")),
    Effect.flatMap(decodeRows(SizeRow, "treeSize"))
  )
  return rows[0]?.tree_size ?? 0
})

/** The frontier column: 32-byte hashes concatenated, or null/wrong length (a pre-0006 row) → none. */
const splitFrontier = (size: number, bytes: Uint8Array | null): ReadonlyArray<Uint8Array> | undefined => {
  const n = frontierLength(size)
  if (bytes === null || bytes.length !== n * 32) return undefined
  return Array.from({ length: n }, (_, i) => bytes.subarray(i * 32, i * 32 + 32))
}

/** Byte strings concatenated into one Buffer (sent as one binary parameter). */
const concat = (parts: ReadonlyArray<Uint8Array>): Buffer => Buffer.concat(parts as Array<Uint8Array>)

/** Per input leaf, its index; `fresh` says whether this batch appended it (false: its key was already in the log). */
export interface AppendedBatch {
  readonly start: number
  readonly size: number
  readonly indexes: ReadonlyArray<number>
  readonly fresh: ReadonlyArray<boolean>
}

/**
 * The sequencer: one transaction locks the state row — which also holds the tree's right frontier — looks up
 * the batch's idempotency keys (a key already in the log answers with its leaf index and appends nothing; a key
 * twice in the batch is appended once), takes the next contiguous indices, writes the leaves and every perfect
 * subtree they complete and moves the size and frontier in one statement. Concurrent appenders (any process)
 * queue on the row lock, so indices never fork, a rolled-back batch leaves no gap, and the key lookup sees every
 * committed leaf (the unique index on the key is the backstop). Three or four round trips per batch whatever its
 * size (BEGIN+lock, keys, write, COMMIT); `onCommitted` sees the nodes once they are durable (for the node cache).
 */
export const appendBatch = (
  input: ReadonlyArray<PendingLeaf>,
  hasher: TreeHasher,
  onCommitted?: (nodes: ReadonlyArray<NewNode>) => void
) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const write = Effect.gen(function* () {
      const state = yield* sql`SELECT tree_size, frontier FROM audit_tree_state WHERE id = 1 FOR UPDATE`.pipe(
        Effect.flatMap(decodeRows(StateRow, "appendBatch"))
      )
      const start = state[0]?.tree_size ?? 0
      const keys = input.flatMap((l) => (l.key === undefined ? [] : [l.key]))
      const known = new Map<string, number>()
      if (keys.length > 0) {
        const rows = yield* sql`
          SELECT idempotency_key, leaf_index FROM audit_leaves WHERE idempotency_key = ANY(${pgArray.text(keys)}::text[])
        `.pipe(Effect.flatMap(decodeRows(KeyRow, "appendBatch")))
        for (const r of rows) known.set(r.idempotency_key, r.leaf_index)
      }
      const indexes: Array<number> = []
      const fresh: Array<boolean> = []
      const leaves: Array<PendingLeaf> = []
      for (const l of input) {
        const had = l.key === undefined ? undefined : known.get(l.key)
        if (had !== undefined) {
          indexes.push(had)
          fresh.push(false)
          continue
        }
        const index = start + leaves.length
        if (l.key !== undefined) known.set(l.key, index)
        indexes.push(index)
        fresh.push(true)
        leaves.push(l)
      }
      if (leaves.length === 0) return { start, size: start, nodes: [], indexes, fresh }
      let frontier = splitFrontier(start, state[0]?.frontier ?? null)
      if (frontier === undefined) {
        // A log from before the frontier column: load it from the nodes once; this batch stores it.
        const ids = rangeNodes({ start: 0, end: start })
        const stored = yield* fetchNodes(ids)
        const found = ids.map((id) => stored.get(key(id.level, id.index)))
        const lost = ids.findIndex((_, i) => found[i] === undefined)
        if (lost >= 0)
          return yield* new AuditStoreError({
            operation: "appendBatch",
            message: `stored tree lacks frontier node ${ids[lost]!.level}:${ids[lost]!.index}`
          })
        frontier = found as Array<Uint8Array>
      }
      const created = appendToFrontier(
        start,
        frontier,
        leaves.map((l) => l.hash),
        hasher
      )
      const nodes = created.nodes
      const size = start + leaves.length
      // Bytes go as three binary parameters (node-postgres sends a Buffer as binary): the leaves concatenated
      // with their lengths, and the leaf and node hashes at 32 bytes each — no per-row hex text to build or parse.
      yield* sql`
        WITH leaf_in AS (
          SELECT ord - 1 AS i, len, (sum(len) OVER (ORDER BY ord) - len)::int AS off, kind, ms, ikey
          FROM unnest(${pgArray.ints(leaves.map((l) => l.bytes.length))}::int[], ${pgArray.text(leaves.map((l) => l.kind))}::text[],
            ${pgArray.ints(leaves.map((l) => l.recordedAt.getTime()))}::bigint[], ${pgArray.text(leaves.map((l) => l.key))}::text[])
            WITH ORDINALITY AS t (len, kind, ms, ikey, ord)
        ), new_leaves AS (
          INSERT INTO audit_leaves (leaf_index, leaf_bytes, leaf_hash, kind, recorded_at, idempotency_key, appended_at)
          SELECT ${start} + i, substring(${concat(leaves.map((l) => l.bytes))}::bytea FROM off + 1 FOR len),
            substring(${concat(leaves.map((l) => l.hash))}::bytea FROM i::int * 32 + 1 FOR 32), kind,
            timestamptz 'epoch' + ms * interval '1 millisecond', ikey, clock_timestamp()
          FROM leaf_in
        ), new_nodes AS (
          INSERT INTO audit_nodes (level, node_index, hash)
          SELECT level, node_index, substring(${concat(nodes.map((n) => n.hash))}::bytea FROM (ord::int - 1) * 32 + 1 FOR 32)
          FROM unnest(${pgArray.ints(nodes.map((n) => n.level))}::smallint[], ${pgArray.ints(nodes.map((n) => n.index))}::bigint[])
            WITH ORDINALITY AS t (level, node_index, ord)
        )
        UPDATE audit_tree_state SET tree_size = ${size}, frontier = ${concat(created.frontier)}, updated_at = now()
        WHERE id = 1
      `
      return { start, size, nodes, indexes, fresh }
    })
    const done = yield* sql
      .withTransaction(write)
      .pipe(Effect.catchTag("SqlError", (e) => Effect.fail(storeError("appendBatch")(e))))
    onCommitted?.(done.nodes)
    return { start: done.start, size: done.size, indexes: done.indexes, fresh: done.fresh } satisfies AppendedBatch
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
