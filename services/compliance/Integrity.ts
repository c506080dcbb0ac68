/**
 * The integrity job: rebuilds the tree from the stored leaf rows, compares it with every signed checkpoint,
 * and classifies what changed: a modified, deleted, inserted or reordered leaf row, or a truncated tail.
 *
 * Trust: the signed checkpoints are the anchor. The sequencer's own record of each leaf hash (audit_nodes
 * level 0) is the per-index reference used to name *which* row changed and how; it is itself checked
 * against every checkpoint first (`referenceTrusted`). Alerting/escalation is the caller's: pass `onViolation`.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { bytesEqual, toHex } from "../../shared/audit/Bytes.js"
import { parseSignedCheckpoint, type VerifierKey, verifySignedCheckpoint } from "../../shared/audit/Checkpoint.js"
import { MemoryTree } from "../../shared/audit/Merkle.js"
import type { AuditStoreError } from "./AuditErrors.js"
import * as Repo from "./AuditRepo.js"
import { nodeHasher } from "./NodeHasher.js"

export type ViolationKind = "modified" | "deleted" | "inserted" | "reordered" | "truncated"

export interface Violation {
  readonly kind: ViolationKind
  /** The leaf index concerned (for `truncated`: the first missing index). */
  readonly index: number
  readonly detail: string
}

export interface CheckpointMismatch {
  readonly treeSize: number
  readonly detail: string
}

export interface IntegrityReport {
  readonly ok: boolean
  readonly treeSize: number
  readonly leafRows: number
  readonly checkpointsChecked: number
  readonly referenceTrusted: boolean
  readonly violations: ReadonlyArray<Violation>
  readonly counts: Readonly<Record<ViolationKind, number>>
  readonly checkpointMismatches: ReadonlyArray<CheckpointMismatch>
}

export interface IntegrityOptions {
  /** Also verify every checkpoint's signature with this key. */
  readonly verifierKey?: VerifierKey
  readonly onViolation?: (v: Violation) => Effect.Effect<void>
  readonly pageSize?: number
}

interface Row {
  readonly index: number
  readonly hash: string
  readonly hashColumnOk: boolean
}

/** Pure classification of observed rows against the reference hashes (exported for unit tests). */
export const classify = (reference: ReadonlyArray<string>, rows: ReadonlyArray<Row>, expectedSize: number) => {
  const out: Array<Violation> = []
  const byIndex = new Map(rows.map((r) => [r.index, r]))
  const present = new Set(rows.map((r) => r.hash))
  const positions = new Map<string, Array<number>>()
  for (let j = 0; j < reference.length; j++) {
    const h = reference[j]!
    const at = positions.get(h)
    if (at === undefined) positions.set(h, [j])
    else at.push(j)
  }
  const size = Math.max(expectedSize, reference.length)

  for (const r of rows)
    if (!r.hashColumnOk)
      out.push({ kind: "modified", index: r.index, detail: "leaf_hash column does not match leaf bytes" })

  // Slots whose entry is nowhere in the table, and rows whose content was never sequenced.
  const missing = new Set<number>()
  for (let j = 0; j < size; j++) {
    const want = reference[j]
    if (want === undefined ? !byIndex.has(j) : !present.has(want)) missing.add(j)
  }
  const lastRow = rows.reduce((m, r) => Math.max(m, r.index), -1)
  for (const r of rows) {
    if (positions.has(r.hash)) continue
    if (r.index < size && missing.has(r.index)) {
      missing.delete(r.index)
      out.push({ kind: "modified", index: r.index, detail: "row content differs from the sequenced leaf" })
    } else if (r.index >= size || reference[r.index] !== undefined) {
      out.push({ kind: "inserted", index: r.index, detail: "row holds a leaf the sequencer never wrote" })
    }
  }
  const tail = [...missing].filter((j) => j > lastRow)
  if (tail.length > 0)
    out.push({ kind: "truncated", index: Math.min(...tail), detail: `${tail.length} trailing leaves are gone` })
  for (const j of missing)
    if (j <= lastRow) out.push({ kind: "deleted", index: j, detail: "sequenced leaf is missing from the table" })

  // Known entries must appear in sequence order; shifts from a deletion/insertion keep the order, swaps do not.
  let maxSeen = -1
  let maxRow = -1
  const reordered = new Set<number>()
  for (const r of [...rows].sort((a, b) => a.index - b.index)) {
    const candidates = positions.get(r.hash)
    if (candidates === undefined) continue
    const at = candidates.find((c) => c >= maxSeen) ?? candidates[0]!
    if (at < maxSeen) {
      reordered.add(r.index)
      reordered.add(maxRow)
    } else {
      maxSeen = at
      maxRow = r.index
    }
  }
  for (const i of reordered) out.push({ kind: "reordered", index: i, detail: "row is out of sequence order" })
  // One finding per (kind, index): a row with both a stale hash column and new content is one modification.
  const seen = new Set<string>()
  return out
    .filter((v) => {
      const k = `${v.kind}:${v.index}`
      if (seen.has(k)) return false
      seen.add(k)
      return true
    })
    .sort((a, b) => a.index - b.index)
}

const loadAll = <A>(
  page: (after: number, limit: number) => Effect.Effect<ReadonlyArray<A>, AuditStoreError, SqlClient.SqlClient>,
  indexOf: (a: A) => number,
  limit: number
) =>
  Effect.gen(function* () {
    const out: Array<A> = []
    let after = 0
    for (;;) {
      const batch = yield* page(after, limit)
      out.push(...batch)
      if (batch.length < limit) return out
      after = indexOf(batch[batch.length - 1]!) + 1
    }
  })

export const verifyIntegrity = (options: IntegrityOptions = {}) =>
  Effect.gen(function* () {
    const limit = options.pageSize ?? 10_000
    const treeSize = yield* Repo.treeSize
    const checkpoints = yield* Repo.allCheckpoints
    const leafRows = yield* loadAll(Repo.leafPage, (r) => r.leaf_index, limit)
    const refRows = yield* loadAll(Repo.leafNodePage, (r) => r.node_index, limit)
    const mismatches: Array<CheckpointMismatch> = []

    for (const cp of checkpoints) {
      const parsed = parseSignedCheckpoint(cp.note)
      if (Either.isLeft(parsed)) mismatches.push({ treeSize: cp.tree_size, detail: `note: ${parsed.left.reason}` })
      else if (
        parsed.right.checkpoint.treeSize !== cp.tree_size ||
        !bytesEqual(parsed.right.checkpoint.rootHash, cp.root)
      )
        mismatches.push({ treeSize: cp.tree_size, detail: "row size/root differ from the signed note" })
      if (options.verifierKey !== undefined) {
        const v = yield* Effect.either(verifySignedCheckpoint(cp.note, options.verifierKey))
        if (Either.isLeft(v)) mismatches.push({ treeSize: cp.tree_size, detail: `signature: ${v.left.reason}` })
      }
    }

    // Reference: the sequencer's per-index leaf hashes, trusted only if they reproduce every signed root.
    const reference: Array<string> = []
    const refTree = new MemoryTree(nodeHasher)
    let referenceTrusted = true
    for (const r of refRows) {
      if (r.node_index !== refTree.size) {
        referenceTrusted = false
        break
      }
      reference.push(toHex(r.hash))
      refTree.appendLeafHash(r.hash)
    }
    // The rebuilt tree: leaf rows in index order, each hashed from its bytes.
    const rebuilt = new MemoryTree(nodeHasher)
    const rows: Array<Row> = leafRows.map((r) => {
      const h = nodeHasher.leaf(r.leaf_bytes)
      rebuilt.appendLeafHash(h)
      return { index: r.leaf_index, hash: toHex(h), hashColumnOk: bytesEqual(h, r.leaf_hash) }
    })
    for (const cp of checkpoints) {
      const ref = cp.tree_size <= refTree.size ? refTree.root(cp.tree_size) : undefined
      if (ref === undefined || Either.isLeft(ref) || !bytesEqual(ref.right, cp.root)) referenceTrusted = false
      const got = cp.tree_size <= rebuilt.size ? rebuilt.root(cp.tree_size) : undefined
      if (got === undefined || Either.isLeft(got))
        mismatches.push({ treeSize: cp.tree_size, detail: `only ${rebuilt.size} leaf rows; checkpoint covers more` })
      else if (!bytesEqual(got.right, cp.root))
        mismatches.push({ treeSize: cp.tree_size, detail: "tree rebuilt from leaf rows has a different root" })
    }

    const latest = checkpoints.reduce((m, c) => Math.max(m, c.tree_size), 0)
    const violations = classify(reference, rows, Math.max(treeSize, latest))
    const counts = { modified: 0, deleted: 0, inserted: 0, reordered: 0, truncated: 0 }
    for (const v of violations) counts[v.kind]++
    if (options.onViolation !== undefined) yield* Effect.forEach(violations, options.onViolation, { discard: true })
    const report: IntegrityReport = {
      ok: violations.length === 0 && mismatches.length === 0,
      treeSize,
      leafRows: rows.length,
      checkpointsChecked: checkpoints.length,
      referenceTrusted,
      violations,
      counts,
      checkpointMismatches: mismatches
    }
    return report
  }).pipe(Effect.withSpan("Integrity.verify"))
