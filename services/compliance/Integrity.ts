/**
 * The integrity job: rebuilds the tree from the stored leaf rows, compares it with every signed checkpoint,
 * and classifies what changed: a modified, deleted, inserted or reordered leaf row, or a truncated tail.
 *
 * Streaming, in bounded memory: leaf rows and the sequencer's reference hashes are read in index order, a page
 * at a time, and merged; both trees are rebuilt as compact ranges (O(log n) hashes), each checkpoint's root is
 * compared the moment the rebuilt tree reaches its size. Only *anomalous* indices (a row that is not the
 * sequenced leaf at its slot, or a slot without its row) are kept — none on a sound log — and, only if there
 * are any, one more pass over the reference hashes locates where their contents were sequenced, which is what
 * tells a modification from an insertion, a deletion from a shift, a swap from an order-keeping change.
 *
 * Trust: the signed checkpoints are the anchor. The sequencer's own record of each leaf hash (audit_nodes
 * level 0) is the per-index reference used to name *which* row changed and how; it is itself checked against
 * every checkpoint (`referenceTrusted`). Findings raise an escalation and the integrity-violation metric
 * (`recordFindings`), unless the caller turns that off.
 *
 * One snapshot: every read of a check — tree size, checkpoints, the pages of leaf rows and of reference hashes —
 * runs in one REPEATABLE READ, READ ONLY transaction. The log keeps growing while it is checked (every scan
 * appends); read statement by statement, an append landing between the page of rows and the page of references
 * looked like a truncated tail or an inserted row, and opened a critical escalation on a sound log (seen on a
 * fresh `npm start`: the first policy-version entry landed during the first check).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { bytesEqual, toHex } from "../../shared/audit/Bytes.js"
import { parseSignedCheckpoint, type VerifierKey, verifySignedCheckpoint } from "../../shared/audit/Checkpoint.js"
import { CompactRange } from "../../shared/audit/Merkle.js"
import { inReadOnlySnapshot } from "../../shared/layers/Snapshot.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { AuditStoreError } from "./AuditErrors.js"
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
  /** Anomalous indices beyond `maxAnomalies`, detected (the report is not ok) but not classified. */
  readonly unclassified: number
}

export interface IntegrityOptions {
  /** Also verify every checkpoint's signature with this key. */
  readonly verifierKey?: VerifierKey
  readonly onViolation?: (v: Violation) => Effect.Effect<void>
  /** Rows (and reference hashes) read per query; memory stays O(pageSize + anomalies + log n). */
  readonly pageSize?: number
  /** Most anomalous indices kept for classification. */
  readonly maxAnomalies?: number
  /** Most violations of one kind listed (counts stay exact). */
  readonly maxListed?: number
  /** Open an escalation and count the metric when something is wrong (default true). */
  readonly recordFindings?: boolean
}

interface RowSeen {
  readonly hash: string
  readonly hashColumnOk: boolean
}

/** An index where the row is not the sequenced leaf: `ref` is what was sequenced there, `row` what is there. */
interface Anomaly {
  readonly index: number
  readonly ref: string | undefined
  readonly row: RowSeen | undefined
}

/** A run of indices with neither a row nor a reference hash. */
interface Gap {
  readonly start: number
  readonly end: number
}

/** Keyset pages of one index-ordered table, read as a cursor. */
const cursor = <A>(
  page: (after: number, limit: number) => Effect.Effect<ReadonlyArray<A>, AuditStoreError, SqlClient.SqlClient>,
  indexOf: (a: A) => number,
  limit: number
) => {
  let buf: ReadonlyArray<A> = []
  let at = 0
  let after = 0
  let done = false
  const fill = Effect.gen(function* () {
    while (at >= buf.length && !done) {
      buf = yield* page(after, limit)
      at = 0
      if (buf.length < limit) done = true
      if (buf.length > 0) after = indexOf(buf[buf.length - 1]!) + 1
    }
  })
  return {
    /** The next item, not consumed; undefined at the end. */
    peek: Effect.map(fill, () => buf[at]),
    take: () => {
      at++
    }
  }
}

/**
 * Classifies the anomalies (pure, exported for unit tests). `positions(h)`: the ascending indices where leaf
 * hash h was sequenced (known for every anomalous row's hash); `presentElsewhere(h)`: whether a sound row
 * holds h. Indices that are neither anomalies nor gaps, below `rowEnd`, are sound rows.
 */
export const classifyAnomalies = (input: {
  readonly anomalies: ReadonlyArray<Anomaly>
  readonly gaps: ReadonlyArray<Gap>
  readonly positions: (hash: string) => ReadonlyArray<number> | undefined
  readonly presentElsewhere: (hash: string) => boolean
  readonly size: number
  readonly lastRow: number
  readonly maxListed: number
}): { readonly violations: Array<Violation>; readonly counts: Record<ViolationKind, number> } => {
  const { anomalies, gaps, positions, size, lastRow, maxListed } = input
  const counts: Record<ViolationKind, number> = { modified: 0, deleted: 0, inserted: 0, reordered: 0, truncated: 0 }
  const out: Array<Violation> = []
  const seen = new Set<string>()
  const report = (kind: ViolationKind, index: number, detail: string) => {
    const k = `${kind}:${index}`
    if (seen.has(k)) return
    seen.add(k)
    counts[kind]++
    if (counts[kind] <= maxListed) out.push({ kind, index, detail })
  }
  const rowHashes = new Set<string>()
  for (const a of anomalies) if (a.row !== undefined) rowHashes.add(a.row.hash)
  const present = (h: string) => rowHashes.has(h) || input.presentElsewhere(h)

  for (const a of anomalies)
    if (a.row !== undefined && !a.row.hashColumnOk)
      report("modified", a.index, "leaf_hash column does not match leaf bytes")

  // Slots whose entry is nowhere in the table.
  const missing = new Set<number>()
  for (const a of anomalies)
    if (a.index < size && (a.ref === undefined ? a.row === undefined : !present(a.ref))) missing.add(a.index)
  // Rows whose content was never sequenced.
  for (const a of anomalies) {
    if (a.row === undefined || positions(a.row.hash) !== undefined) continue
    if (a.index < size && missing.has(a.index)) {
      missing.delete(a.index)
      report("modified", a.index, "row content differs from the sequenced leaf")
    } else if (a.index >= size || a.ref !== undefined) {
      report("inserted", a.index, "row holds a leaf the sequencer never wrote")
    }
  }
  // Gaps below the size are slots with neither row nor reference: missing too.
  let tailCount = 0
  let tailFirst = Number.POSITIVE_INFINITY
  for (const g of gaps) {
    const end = Math.min(g.end, size)
    for (let j = g.start; j < end && j <= lastRow; j++) report("deleted", j, "sequenced leaf is missing from the table")
    const from = Math.max(g.start, lastRow + 1)
    if (end > from) {
      tailCount += end - from
      tailFirst = Math.min(tailFirst, from)
    }
  }
  for (const j of missing)
    if (j > lastRow) {
      tailCount++
      tailFirst = Math.min(tailFirst, j)
    }
  if (tailCount > 0) report("truncated", tailFirst, `${tailCount} trailing leaves are gone`)
  for (const j of missing) if (j <= lastRow) report("deleted", j, "sequenced leaf is missing from the table")

  // Known entries must appear in sequence order; shifts from a deletion/insertion keep the order, swaps do not.
  // Sound rows sit at their own slot; anomalous rows at the slots their content was sequenced at.
  let maxSeen = -1
  let maxRow = -1
  const reordered = new Set<number>()
  const visit = (rowIndex: number, candidates: ReadonlyArray<number>) => {
    const at = candidates.find((c) => c >= maxSeen) ?? candidates[0]!
    if (at < maxSeen) {
      reordered.add(rowIndex)
      reordered.add(maxRow)
    } else {
      maxSeen = at
      maxRow = rowIndex
    }
  }
  const events = [
    ...anomalies.map((a) => ({ start: a.index, end: a.index + 1, anomaly: a })),
    ...gaps.map((g) => ({ start: g.start, end: g.end, anomaly: undefined }))
  ].sort((x, y) => x.start - y.start)
  let next = 0
  const soundRun = (start: number, end: number) => {
    let j = start
    for (; j < end && j < maxSeen; j++) visit(j, [j])
    if (j < end) {
      maxSeen = end - 1
      maxRow = end - 1
    }
  }
  for (const e of events) {
    if (e.start > next) soundRun(next, Math.min(e.start, lastRow + 1))
    if (e.anomaly?.row !== undefined) {
      const candidates = positions(e.anomaly.row.hash)
      if (candidates !== undefined && candidates.length > 0) visit(e.anomaly.index, candidates)
    }
    next = Math.max(next, e.end)
  }
  if (next <= lastRow) soundRun(next, lastRow + 1)
  for (const i of [...reordered].sort((a, b) => a - b)) report("reordered", i, "row is out of sequence order")

  return { violations: out.sort((a, b) => a.index - b.index), counts }
}

export const verifyIntegrity = (options: IntegrityOptions = {}) =>
  Effect.gen(function* () {
    const report = yield* inReadOnlySnapshot(checkLog(options)).pipe(
      Effect.catchTag("SqlError", (e) => Effect.fail(Repo.storeError("Integrity.snapshot")(e)))
    )
    if (options.onViolation !== undefined) {
      yield* Effect.forEach(report.violations, options.onViolation, { discard: true })
    }
    if (!report.ok && options.recordFindings !== false) yield* recordFindings(report)
    return report
  }).pipe(Effect.withSpan("Integrity.verify"))

/** the check itself, on whatever snapshot its statements see (verifyIntegrity gives it one) */
const checkLog = (options: IntegrityOptions) =>
  Effect.gen(function* () {
    const limit = options.pageSize ?? 10_000
    const maxAnomalies = options.maxAnomalies ?? 100_000
    const treeSize = yield* Repo.treeSize
    const checkpoints = [...(yield* Repo.allCheckpoints)].sort((a, b) => a.tree_size - b.tree_size)
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

    // Pass 1: merge the leaf rows with the reference hashes in index order.
    const rows = cursor(Repo.leafPage, (r) => r.leaf_index, limit)
    const refs = cursor(Repo.leafNodePage, (r) => r.node_index, limit)
    const rebuilt = new CompactRange(nodeHasher)
    const refTree = new CompactRange(nodeHasher)
    let refContiguous = true
    let rebuiltCp = 0
    let refCp = 0
    const refRootOk = new Set<number>()
    const anomalies: Array<Anomaly> = []
    const gaps: Array<Gap> = []
    let unclassified = 0
    let leafRows = 0
    let lastRow = -1
    let next = 0
    const latest = checkpoints.reduce((m, c) => Math.max(m, c.tree_size), 0)
    const expected = Math.max(treeSize, latest)

    const checkRebuilt = () => {
      while (rebuiltCp < checkpoints.length && checkpoints[rebuiltCp]!.tree_size === rebuilt.size) {
        const cp = checkpoints[rebuiltCp++]!
        if (!bytesEqual(rebuilt.root(), cp.root))
          mismatches.push({ treeSize: cp.tree_size, detail: "tree rebuilt from leaf rows has a different root" })
      }
    }
    const checkRef = () => {
      while (refCp < checkpoints.length && checkpoints[refCp]!.tree_size === refTree.size) {
        const cp = checkpoints[refCp++]!
        if (bytesEqual(refTree.root(), cp.root)) refRootOk.add(cp.tree_size)
      }
    }
    const note = (a: Anomaly) => {
      if (anomalies.length < maxAnomalies) anomalies.push(a)
      else unclassified++
    }
    checkRebuilt()
    checkRef()

    for (;;) {
      const row = yield* rows.peek
      const ref = yield* refs.peek
      if (row === undefined && ref === undefined) break
      const j = Math.min(row?.leaf_index ?? Number.POSITIVE_INFINITY, ref?.node_index ?? Number.POSITIVE_INFINITY)
      if (j > next) gaps.push({ start: next, end: j })
      next = j + 1
      let rowHash: Uint8Array | undefined
      let hashColumnOk = true
      if (row !== undefined && row.leaf_index === j) {
        rows.take()
        rowHash = nodeHasher.leaf(row.leaf_bytes)
        rebuilt.appendLeafHash(rowHash)
        checkRebuilt()
        leafRows++
        lastRow = j
        hashColumnOk = bytesEqual(rowHash, row.leaf_hash)
      }
      let sequenced: Uint8Array | undefined
      if (ref !== undefined && ref.node_index === j) {
        refs.take()
        sequenced = ref.hash
        if (refContiguous && j === refTree.size) {
          refTree.appendLeafHash(ref.hash)
          checkRef()
        } else refContiguous = false
      }
      if (rowHash === undefined || sequenced === undefined || !hashColumnOk || !bytesEqual(rowHash, sequenced))
        note({
          index: j,
          ref: sequenced === undefined ? undefined : toHex(sequenced),
          row: rowHash === undefined ? undefined : { hash: toHex(rowHash), hashColumnOk }
        })
    }
    if (next < expected) gaps.push({ start: next, end: expected })

    for (const cp of checkpoints)
      if (cp.tree_size > rebuilt.size)
        mismatches.push({ treeSize: cp.tree_size, detail: `only ${rebuilt.size} leaf rows; checkpoint covers more` })
    const referenceTrusted = refContiguous && checkpoints.every((c) => refRootOk.has(c.tree_size))
    const size = Math.max(expected, refTree.size)

    // Pass 2 (only when something is off): where were the anomalous rows' contents sequenced, and do sound
    // rows hold the anomalous slots' contents (a duplicate leaf)?
    const positions = new Map<string, Array<number>>()
    const soundHolds = new Set<string>()
    if (anomalies.length > 0) {
      const wanted = new Set<string>()
      for (const a of anomalies) if (a.row !== undefined) wanted.add(a.row.hash)
      const slotRefs = new Set<string>()
      const anomalous = new Set<number>()
      for (const a of anomalies) {
        anomalous.add(a.index)
        if (a.ref !== undefined) slotRefs.add(a.ref)
      }
      const again = cursor(Repo.leafNodePage, (r) => r.node_index, limit)
      for (;;) {
        const r = yield* again.peek
        if (r === undefined) break
        again.take()
        const h = toHex(r.hash)
        if (wanted.has(h)) {
          const at = positions.get(h)
          if (at === undefined) positions.set(h, [r.node_index])
          else at.push(r.node_index)
        }
        if (slotRefs.has(h) && !anomalous.has(r.node_index)) soundHolds.add(h)
      }
    }
    const { violations, counts } = classifyAnomalies({
      anomalies,
      gaps,
      positions: (h) => positions.get(h),
      presentElsewhere: (h) => soundHolds.has(h),
      size,
      lastRow,
      maxListed: options.maxListed ?? 1000
    })

    const report: IntegrityReport = {
      ok: violations.length === 0 && mismatches.length === 0 && unclassified === 0,
      treeSize,
      leafRows,
      checkpointsChecked: checkpoints.length,
      referenceTrusted,
      violations,
      counts,
      checkpointMismatches: mismatches,
      unclassified
    }
    return report
  })

/**
 * What a failed check raises: `brandme_audit_integrity_violations_total{kind}` (the five kinds, plus
 * `checkpoint` for checkpoint rows that no longer match) on the running service's registry, and one critical
 * escalation per distinct finding (re-running the job on an unchanged log does not open another).
 */
export const recordFindings = (report: IntegrityReport) =>
  Effect.gen(function* () {
    const metrics = yield* Effect.serviceOption(Metrics)
    if (metrics._tag === "Some") {
      for (const [kind, n] of Object.entries(report.counts))
        if (n > 0) metrics.value.m.auditIntegrityViolationsTotal.inc({ kind }, n)
      if (report.checkpointMismatches.length > 0)
        metrics.value.m.auditIntegrityViolationsTotal.inc({ kind: "checkpoint" }, report.checkpointMismatches.length)
    }
    const details = {
      treeSize: report.treeSize,
      leafRows: report.leafRows,
      counts: report.counts,
      unclassified: report.unclassified,
      referenceTrusted: report.referenceTrusted,
      violations: report.violations.slice(0, 50),
      checkpointMismatches: report.checkpointMismatches.slice(0, 50)
    }
    const fingerprint = toHex(
      nodeHasher.leaf(
        new TextEncoder().encode(JSON.stringify([details.counts, details.violations, details.checkpointMismatches]))
      )
    ).slice(0, 32)
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO escalations (kind, severity, subject, details, dedupe_key)
      VALUES ('audit_integrity_violation', 'critical', 'audit-log', ${JSON.stringify(details)}::jsonb,
              ${`audit-integrity:${fingerprint}`})
      ON CONFLICT (dedupe_key) DO NOTHING
    `.pipe(Effect.mapError((e) => new AuditStoreError({ operation: "Integrity.escalate", message: e.message })))
  }).pipe(Effect.withSpan("Integrity.recordFindings"))
