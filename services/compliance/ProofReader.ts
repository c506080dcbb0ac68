/**
 * The proof endpoints' read path, kept lean because it runs once per `GET /v1/audit/entries/:index` and
 * `GET /v1/audit/consistency`: per call it allocates a few KB (the previous path, on @effect/sql statements,
 * Schema row decoding and `level:index` Maps, allocated ~120 KB, and the scavenges that garbage triggered were
 * the p99).
 *
 * - Two fixed statements, prepared once per connection (`pg` named queries, `rowMode: "array"`), each one round
 *   trip returning one row: node hashes come back concatenated in one bytea, the leaf as hex text.
 * - The inclusion path is planned with `inclusionSteps` (integer arithmetic, no objects per node).
 * - Upper levels come from the flat `NodeCache`; the ragged right edge of the checkpoint's tree (at most one
 *   fold per frontier node) and its root are computed once per tree size and kept as hex.
 *
 * The statements run on a few clients of their own built from the PgClient's connection settings; without a
 * PgClient (another SqlClient) the same SQL runs through `sql.unsafe`.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Either, Option, Redacted, type Scope } from "effect"
import pg from "pg"
import {
  consistencyPlan,
  EDGE,
  emptyRoot,
  inclusionSteps,
  type NodeId,
  type Range,
  rangeNodes
} from "../../shared/audit/Merkle.js"
import { AuditEntryNotFound, AuditNoCheckpoint, AuditRangeInvalid, AuditStoreError } from "./AuditErrors.js"
import type { NodeCache } from "./AuditRepo.js"
import type { ConsistencyView, EntryView } from "./AuditViews.js"
import { nodeHasher } from "./NodeHasher.js"

type Row = ReadonlyArray<unknown>
type Run = (
  name: string,
  text: string,
  values: ReadonlyArray<unknown>
) => Effect.Effect<ReadonlyArray<Row>, AuditStoreError>

// Node hashes for the ids ($1 levels, $2 indices), concatenated in order; `missing` lists the 1-based positions
// of ids that are not stored (NULL when all are).
const nodesSql = (levels: string, indices: string) => `
  SELECT string_agg(x.hash, ''::bytea ORDER BY k.ord) AS hashes,
    array_agg(k.ord::int) FILTER (WHERE x.hash IS NULL) AS missing
  FROM unnest(${levels}::smallint[], ${indices}::bigint[]) WITH ORDINALITY AS k (level, node_index, ord)
  LEFT JOIN audit_nodes x ON x.level = k.level AND x.node_index = k.node_index`

const NODES = { name: "audit_proof_nodes_v1", text: nodesSql("$1", "$2") }
// The latest checkpoint, the leaf row ($1) and the nodes ($2, $3) of its proof against the size the caller expects.
const ENTRY = {
  name: "audit_entry_view_v1",
  text: `
  SELECT c.tree_size, c.note, encode(l.leaf_bytes, 'hex'), encode(l.leaf_hash, 'hex'), l.kind, l.recorded_at,
    n.hashes, n.missing
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT tree_size, note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1) c ON true
  LEFT JOIN audit_leaves l ON l.leaf_index = $1
  LEFT JOIN LATERAL (${nodesSql("$2", "$3")}) n ON true`
}

const storeError = (message: string) => new AuditStoreError({ operation: "proof", message })

/** The statement runner: `connections` dedicated clients with prepared statements, or `sql.unsafe`. */
export const makeRunner = (connections: number): Effect.Effect<Run, never, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* Effect.serviceOption(PgClient.PgClient)
    if (Option.isNone(client)) {
      const sql = yield* SqlClient.SqlClient
      return (_name, text, values) =>
        sql.unsafe(text, values).values.pipe(Effect.mapError((e) => storeError(`proof read failed: ${e.message}`)))
    }
    const c = client.value.config
    const settings: pg.ClientConfig = {
      ...(c.url !== undefined ? { connectionString: Redacted.value(c.url) } : {}),
      ...(c.host !== undefined ? { host: c.host } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      ...(c.database !== undefined ? { database: c.database } : {}),
      ...(c.username !== undefined ? { user: c.username } : {}),
      ...(c.password !== undefined ? { password: Redacted.value(c.password) } : {}),
      ...(c.ssl !== undefined ? { ssl: c.ssl } : {}),
      ...(c.types !== undefined ? { types: c.types } : {}),
      application_name: `${c.applicationName ?? "brandme"}-proofs`
    }
    // `connections` long-lived clients, opened on first use, each running one statement at a time from its own
    // FIFO (pg ≥ 8.23 deprecates queueing on the client itself): a call goes to the least busy one — no pool
    // checkout, release or idle timer per query, which on this path cost a visible share of the tail against a
    // plain client. A client that fails or ends is replaced; calls waiting for it fail only if reconnecting does.
    interface Task {
      readonly run: (cl: pg.Client, done: () => void) => void
      readonly fail: (message: string) => void
    }
    interface Slot {
      client: pg.Client | undefined
      ready: boolean
      active: boolean
      readonly queue: Array<Task>
    }
    const slots: Array<Slot> = Array.from({ length: Math.max(1, connections) }, () => ({
      client: undefined,
      ready: false,
      active: false,
      queue: []
    }))
    let closed = false
    const pump = (slot: Slot): void => {
      const cl = slot.client
      if (cl === undefined || !slot.ready || slot.active) return
      const task = slot.queue.shift()
      if (task === undefined) return
      slot.active = true
      task.run(cl, () => {
        if (slot.client === cl) slot.active = false
        pump(slot)
      })
    }
    const open = (slot: Slot): void => {
      const cl = new pg.Client(settings)
      slot.client = cl
      slot.ready = false
      slot.active = false
      const drop = () => {
        if (slot.client !== cl) return
        slot.client = undefined
        slot.ready = false
        slot.active = false
        if (slot.queue.length > 0 && !closed) open(slot)
      }
      cl.on("error", drop)
      cl.on("end", drop)
      cl.connect((err) => {
        if (slot.client !== cl) return
        if (err) {
          slot.client = undefined
          for (const t of slot.queue.splice(0)) t.fail(`cannot connect: ${err.message}`)
          return
        }
        // The two statements' plans do not depend on their parameters (primary-key lookups); re-planning them per
        // call, as the custom plans a prepared statement starts with do, was about 0.1 ms of a 0.3 ms call.
        cl.query("SET plan_cache_mode = force_generic_plan", () => {
          if (slot.client !== cl) return
          slot.ready = true
          pump(slot)
        })
      })
    }
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        closed = true
        return Promise.all(
          slots.map((slot) => {
            const cl = slot.client
            slot.client = undefined
            for (const t of slot.queue.splice(0)) t.fail("the audit log is shutting down")
            return cl?.end().catch(() => undefined)
          })
        )
      })
    )
    const load = (x: Slot) => x.queue.length + (x.active ? 1 : 0)
    return (name, text, values) =>
      Effect.async<ReadonlyArray<Row>, AuditStoreError>((resume) => {
        if (closed) return resume(Effect.fail(storeError("the audit log is shutting down")))
        let slot = slots[0]!
        for (const x of slots) if (load(x) < load(slot)) slot = x
        slot.queue.push({
          run: (cl, done) =>
            cl.query<Array<unknown>>({ name, text, values: values as Array<unknown>, rowMode: "array" }, (err, res) => {
              done()
              resume(
                err !== undefined && err !== null
                  ? Effect.fail(storeError(`proof read failed: ${err.message}`))
                  : Effect.succeed(res.rows)
              )
            }),
          fail: (message) => resume(Effect.fail(storeError(`proof read failed: ${message}`)))
        })
        if (slot.client === undefined) open(slot)
        else pump(slot)
      })
  })

/** The right edge of one tree size: hex and bytes of [start, size) for each frontier node's start; 0 is the root. */
interface Edge {
  readonly size: number
  readonly hex: Map<number, string>
  readonly bin: Map<number, Uint8Array>
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

const asBuffer = (v: unknown): Buffer | undefined => (Buffer.isBuffer(v) ? v : undefined)
const asSize = (v: unknown): number | undefined => {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : Number.NaN
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

export interface ProofReader {
  readonly entryView: (
    index: number
  ) => Effect.Effect<EntryView, AuditEntryNotFound | AuditNoCheckpoint | AuditRangeInvalid | AuditStoreError>
  readonly consistencyView: (
    from: number,
    to: number
  ) => Effect.Effect<ConsistencyView, AuditRangeInvalid | AuditStoreError>
}

export const makeProofReader = (
  run: Run,
  cache: NodeCache,
  /** Called when a requested node is not stored: tells a size past the log (caller's error) from a lost node. */
  missing: (size: number, id: NodeId) => Effect.Effect<never, AuditRangeInvalid | AuditStoreError>
): ProofReader => {
  let edge: Edge | undefined

  /** Nodes by id: hashes in one bytea, in order; a missing one fails. */
  const fetch = (ids: ReadonlyArray<NodeId>, size: number) =>
    ids.length === 0
      ? Effect.succeed(Buffer.alloc(0))
      : Effect.flatMap(
          run(NODES.name, NODES.text, [
            `{${ids.map((i) => i.level).join(",")}}`,
            `{${ids.map((i) => i.index).join(",")}}`
          ]),
          (rows) => checkNodes(rows[0]?.[0], rows[0]?.[1], ids, size)
        )
  const checkNodes = (hashes: unknown, gone: unknown, ids: ReadonlyArray<NodeId>, size: number) => {
    if (Array.isArray(gone) && gone.length > 0) return missing(size, ids[Number(gone[0]) - 1] ?? { level: 0, index: 0 })
    const h = asBuffer(hashes) ?? Buffer.alloc(0)
    return h.length === ids.length * 32
      ? Effect.succeed(h)
      : Effect.fail(storeError("node hashes are not 32 bytes each"))
  }

  /** The edge of `size`: its frontier (cached or read), folded from the right. */
  const edgeOf = (size: number) =>
    Effect.gen(function* () {
      if (edge !== undefined && edge.size === size) return edge
      const frontier = rangeNodes({ start: 0, end: size })
      const hashes: Array<Uint8Array | undefined> = frontier.map((id) => cache.get(id))
      const load = frontier.filter((_, i) => hashes[i] === undefined)
      const got = yield* fetch(load, size)
      let k = 0
      for (let i = 0; i < frontier.length; i++)
        if (hashes[i] === undefined) {
          const id = frontier[i]!
          cache.put(id.level, id.index, got, k * 32)
          hashes[i] = got.subarray(k * 32, k * 32 + 32)
          k++
        }
      const hex = new Map<number, string>()
      const bin = new Map<number, Uint8Array>()
      let acc: Uint8Array | undefined
      let end = size
      for (let i = frontier.length - 1; i >= 0; i--) {
        const h = hashes[i]!
        acc = acc === undefined ? h : nodeHasher.node(h, acc)
        end -= 2 ** frontier[i]!.level
        hex.set(end, toHex(acc))
        bin.set(end, acc)
      }
      const e: Edge = { size, hex, bin }
      if (edge === undefined || size >= edge.size) edge = e
      return e
    })

  /**
   * An inclusion plan (`inclusionSteps`), per call since a call waits on its read: `dbAt[j]` is the position of
   * step j's node in the read (-1: cached, or the edge), `levels`/`indices` the read's two id arrays as text.
   */
  interface Plan {
    readonly steps: number
    readonly levels: Int8Array
    readonly nodes: Float64Array
    readonly dbAt: Int32Array
    readonly ids: ReadonlyArray<NodeId>
    readonly levelList: string
    readonly indexList: string
  }
  const plan = (index: number, size: number): Plan => {
    const levels = new Int8Array(64)
    const nodes = new Float64Array(64)
    const dbAt = new Int32Array(64)
    const steps = inclusionSteps(index, size, levels, nodes)
    const ids: Array<NodeId> = []
    let ls = "{"
    let is = "{"
    for (let j = 0; j < steps; j++) {
      const level = levels[j]!
      if (level !== EDGE && cache.offset(level, nodes[j]!) < 0) {
        dbAt[j] = ids.length
        if (ids.length > 0) {
          ls += ","
          is += ","
        }
        ls += level
        is += nodes[j]!
        ids.push({ level, index: nodes[j]! })
      } else dbAt[j] = -1
    }
    return { steps, levels, nodes, dbAt, ids, levelList: `${ls}}`, indexList: `${is}}` }
  }

  /** The plan's hashes as hex, leaf to root: read ones from `got` (they join the cache), the rest cached or edge. */
  const proofHex = (p: Plan, e: Edge, got: Buffer): Array<string> | undefined => {
    const out = new Array<string>(p.steps)
    for (let j = 0; j < p.steps; j++) {
      const level = p.levels[j]!
      const node = p.nodes[j]!
      if (level === EDGE) {
        const h = e.hex.get(node)
        if (h === undefined) return undefined
        out[j] = h
      } else if (p.dbAt[j]! >= 0) {
        const at = p.dbAt[j]! * 32
        out[j] = got.toString("hex", at, at + 32)
        cache.put(level, node, got, at)
      } else {
        const at = cache.offset(level, node)
        out[j] = cache.buffer(level).toString("hex", at, at + 32)
      }
    }
    return out
  }

  const entryView = (index: number) =>
    Effect.gen(function* () {
      if (!Number.isSafeInteger(index) || index < 0)
        return yield* new AuditEntryNotFound({ index, message: `entry ${index} is not a leaf index` })
      // Plan against the latest checkpoint size seen; the statement returns the checkpoint it planned for or a newer one.
      const guess = edge
      const p = guess !== undefined && index < guess.size ? plan(index, guess.size) : undefined
      const rows = yield* run(ENTRY.name, ENTRY.text, [index, p?.levelList ?? "{}", p?.indexList ?? "{}"])
      const r = rows[0] ?? []
      const size = asSize(r[0])
      const note = r[1]
      if (size === undefined || typeof note !== "string")
        return yield* new AuditNoCheckpoint({ message: "no checkpoint has been signed yet" })
      if (index >= size)
        return yield* new AuditEntryNotFound({
          index,
          message: `entry ${index} is not covered by the latest checkpoint (size ${size})`
        })
      const [, , leafData, leafHash, kind, recordedAt] = r
      if (typeof leafData !== "string" || typeof leafHash !== "string" || typeof kind !== "string")
        return yield* new AuditEntryNotFound({ index, message: `entry ${index} is missing` })
      if (!(recordedAt instanceof Date)) return yield* storeError(`entry ${index} has no valid recorded_at`)
      let proof: Array<string> | undefined
      let e: Edge
      if (p !== undefined && guess !== undefined && guess.size === size) {
        e = guess
        const got = p.ids.length > 0 ? yield* checkNodes(r[6], r[7], p.ids, size) : Buffer.alloc(0)
        proof = proofHex(p, e, got)
      } else {
        // A new checkpoint since the last call (or the first call): its edge, then the nodes for its size.
        e = yield* edgeOf(size)
        const q = plan(index, size)
        proof = proofHex(q, e, yield* fetch(q.ids, size))
      }
      const rootHash = e.hex.get(0)
      if (proof === undefined || rootHash === undefined)
        return yield* storeError(`the right edge of tree size ${size} is incomplete`)
      return {
        index,
        kind,
        recordedAt: recordedAt.toISOString(),
        leafData,
        leafHash,
        treeSize: size,
        rootHash,
        inclusionProof: proof,
        checkpoint: note
      }
    })

  const consistencyView = (from: number, to: number) =>
    Effect.gen(function* () {
      const planned = consistencyPlan(from, to)
      if (Either.isLeft(planned)) return yield* new AuditRangeInvalid({ message: planned.left.reason })
      const ranges: Array<Range> = [...planned.right, { start: 0, end: from }, { start: 0, end: to }]
      // The edge of `to` serves every range ending there; it is the latest checkpoint's in the usual case.
      const e = edge !== undefined && edge.size === to ? edge : undefined
      // Per range: its perfect parts and, for each, its position in the read (-1: cached); undefined: the edge.
      const parts: Array<{ readonly ids: ReadonlyArray<NodeId>; readonly at: Int32Array } | undefined> = []
      const load: Array<NodeId> = []
      for (const r of ranges) {
        if (e !== undefined && r.end === to && e.bin.has(r.start)) {
          parts.push(undefined)
          continue
        }
        const ids = rangeNodes(r)
        const at = new Int32Array(ids.length)
        for (let j = 0; j < ids.length; j++) {
          const id = ids[j]!
          at[j] = cache.offset(id.level, id.index) < 0 ? load.push(id) - 1 : -1
        }
        parts.push({ ids, at })
      }
      const got = yield* fetch(load, to)
      const hashes: Array<Uint8Array> = []
      for (let i = 0; i < ranges.length; i++) {
        const part = parts[i]
        if (part === undefined) {
          hashes.push(e!.bin.get(ranges[i]!.start)!)
          continue
        }
        let acc: Uint8Array | undefined
        for (let j = part.ids.length - 1; j >= 0; j--) {
          const id = part.ids[j]!
          const at = part.at[j]!
          const h = at < 0 ? cache.get(id)! : got.subarray(at * 32, at * 32 + 32)
          if (at >= 0) cache.put(id.level, id.index, got, at * 32)
          acc = acc === undefined ? h : nodeHasher.node(h, acc)
        }
        hashes.push(acc ?? emptyRoot)
      }
      const n = hashes.length
      return {
        from,
        to,
        fromRoot: toHex(hashes[n - 2]!),
        toRoot: toHex(hashes[n - 1]!),
        proof: hashes.slice(0, -2).map(toHex)
      }
    })

  return { entryView, consistencyView }
}
