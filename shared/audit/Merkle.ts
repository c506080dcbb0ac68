/**
 * RFC 9162 §2.1 Merkle tree: hashing, proof generation over stored subtree hashes, and proof verification.
 *
 * Browser-safe (no Node imports): the console, the CLI and the compliance service share this one module.
 *
 * Storage model: only *perfect* subtrees are stored — node (level, index) is the hash of leaves
 * [index·2^level, (index+1)·2^level). Every range an RFC 9162 proof needs is a run of such nodes with
 * descending sizes (ragged right edge), so a proof needs O(log n) stored nodes, fetched in one lookup.
 * Sizes and indices are JS numbers (exact below 2^53); arithmetic avoids 32-bit bit operators for that reason.
 */
import { Effect, Either, Schema } from "effect"
import { bytesEqual } from "./Bytes.js"
import { sha256 } from "./Sha256.js"

export class InvalidProof extends Schema.TaggedError<InvalidProof>()("InvalidProof", {
  reason: Schema.String
}) {}

export class MissingSubtree extends Schema.TaggedError<MissingSubtree>()("MissingSubtree", {
  level: Schema.Number,
  index: Schema.Number
}) {}

export class InvalidTreeRequest extends Schema.TaggedError<InvalidTreeRequest>()("InvalidTreeRequest", {
  reason: Schema.String
}) {}

/** Leaf/node hashing; the default is the pure one, services may pass a native one for bulk work. */
export interface TreeHasher {
  readonly leaf: (data: Uint8Array) => Uint8Array
  readonly node: (left: Uint8Array, right: Uint8Array) => Uint8Array
}

const LEAF_PREFIX = new Uint8Array([0x00])
const NODE_PREFIX = new Uint8Array([0x01])

export const rfc9162Hasher: TreeHasher = {
  leaf: (data) => sha256(LEAF_PREFIX, data),
  node: (left, right) => sha256(NODE_PREFIX, left, right)
}

export const hashLeaf = rfc9162Hasher.leaf
export const hashChildren = rfc9162Hasher.node
/** MTH({}) = SHA-256 of the empty string. */
export const emptyRoot: Uint8Array = sha256()

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number
  readonly index: number
}

/** A leaf range [start, end) whose hash an RFC 9162 proof carries. */
export interface Range {
  readonly start: number
  readonly end: number
}

/** Looks up a stored perfect-subtree hash; `undefined` when it is not (yet) stored. */
export type SubtreeSource = (id: NodeId) => Uint8Array | undefined

const isOdd = (n: number): boolean => n % 2 === 1
const isPowerOfTwo = (n: number): boolean => {
  let k = 1
  while (k < n) k *= 2
  return k === n
}
const half = (n: number): number => Math.floor(n / 2)

/** Largest power of two strictly less than n (n ≥ 2), the split point k of RFC 9162 §2.1.1. */
export const splitPoint = (n: number): number => {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** Decomposes [start, end) into maximal aligned perfect subtrees, left to right. */
export const rangeNodes = (range: Range): ReadonlyArray<NodeId> => {
  const out: Array<NodeId> = []
  let at = range.start
  while (at < range.end) {
    let size = 1
    let level = 0
    while (at % (size * 2) === 0 && at + size * 2 <= range.end) {
      size *= 2
      level++
    }
    out.push({ level, index: at / size })
    at += size
  }
  return out
}

/** Every stored node the given ranges need (deduplicated) — lets a database fetch them in one query. */
export const nodesFor = (ranges: ReadonlyArray<Range>): ReadonlyArray<NodeId> => {
  const seen = new Map<string, NodeId>()
  for (const r of ranges) for (const id of rangeNodes(r)) seen.set(`${id.level}:${id.index}`, id)
  return [...seen.values()]
}

/** Hash of an RFC 9162 subtree range: fold its perfect parts from the right (ragged edge). */
export const rangeHash = (
  range: Range,
  source: SubtreeSource,
  hasher: TreeHasher = rfc9162Hasher
): Either.Either<Uint8Array, MissingSubtree> => {
  if (range.end <= range.start) return Either.right(emptyRoot)
  const ids = rangeNodes(range)
  let acc: Uint8Array | undefined
  for (let i = ids.length - 1; i >= 0; i--) {
    const id = ids[i]!
    const h = source(id)
    if (h === undefined) return Either.left(new MissingSubtree({ level: id.level, index: id.index }))
    acc = acc === undefined ? h : hasher.node(h, acc)
  }
  return Either.right(acc ?? emptyRoot)
}

const resolveAll = (
  ranges: ReadonlyArray<Range>,
  source: SubtreeSource,
  hasher: TreeHasher
): Either.Either<Array<Uint8Array>, MissingSubtree> => {
  const out: Array<Uint8Array> = []
  for (const r of ranges) {
    const h = rangeHash(r, source, hasher)
    if (Either.isLeft(h)) return Either.left(h.left)
    out.push(h.right)
  }
  return Either.right(out)
}

/** Ranges of PATH(m, D[n]) (RFC 9162 §2.1.3.1), leaf to root. */
export const inclusionPlan = (index: number, size: number): Either.Either<Array<Range>, InvalidTreeRequest> => {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    return Either.left(new InvalidTreeRequest({ reason: `leaf index ${index} not in tree of size ${size}` }))
  const out: Array<Range> = []
  const walk = (m: number, start: number, n: number): void => {
    if (n <= 1) return
    const k = splitPoint(n)
    if (m < k) {
      walk(m, start, k)
      out.push({ start: start + k, end: start + n })
    } else {
      walk(m - k, start + k, n - k)
      out.push({ start, end: start + k })
    }
  }
  walk(index, 0, size)
  return Either.right(out)
}

/** Marks a step of `inclusionSteps` that is the ragged right edge [start, size) rather than a perfect node. */
export const EDGE = -1

/**
 * PATH(m, D[n]) as positions, leaf to root, in integer arithmetic with no allocation — the planner the proof
 * endpoint runs per call (`inclusionPlan` is the readable one; the tests hold them equal). Step j is either the
 * perfect subtree (`levels[j]`, `nodes[j]`) — a sibling of the path at that level — or, when `levels[j]` is
 * `EDGE`, the range [`nodes[j]`, size): the tree's ragged right edge, a fold of the frontier nodes below that
 * level, which depends on the size only. Returns the number of steps (at most 53: arrays of 64 suffice);
 * -1 when the index is not in the tree.
 */
export const inclusionSteps = (index: number, size: number, levels: Int8Array, nodes: Float64Array): number => {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return -1
  let j = 0
  let level = 0
  let width = 1
  let i = index
  // The path's node at `level` covers [i·width, min((i+1)·width, size)); it is the root once i = 0 and width ≥ size.
  while (i !== 0 || width < size) {
    const odd = i % 2 === 1
    const sibling = odd ? i - 1 : i + 1
    const start = sibling * width
    if (odd || start + width <= size) {
      levels[j] = level
      nodes[j] = sibling
      j++
    } else if (start < size) {
      levels[j] = EDGE
      nodes[j] = start
      j++
    }
    i = Math.floor(i / 2)
    width *= 2
    level++
  }
  return j
}

/** Ranges of PROOF(m, D[n]) (RFC 9162 §2.1.4.1). A proof from size 0 is refused: it proves nothing. */
export const consistencyPlan = (size1: number, size2: number): Either.Either<Array<Range>, InvalidTreeRequest> => {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2)
    return Either.left(new InvalidTreeRequest({ reason: `no consistency proof from size ${size1} to ${size2}` }))
  const out: Array<Range> = []
  const walk = (m: number, start: number, n: number, whole: boolean): void => {
    if (m === n) {
      if (!whole) out.push({ start, end: start + n })
      return
    }
    const k = splitPoint(n)
    if (m <= k) {
      walk(m, start, k, whole)
      out.push({ start: start + k, end: start + n })
    } else {
      walk(m - k, start + k, n - k, false)
      out.push({ start, end: start + k })
    }
  }
  walk(size1, 0, size2, true)
  return Either.right(out)
}

export const rootFrom = (
  size: number,
  source: SubtreeSource,
  hasher: TreeHasher = rfc9162Hasher
): Either.Either<Uint8Array, MissingSubtree> => rangeHash({ start: 0, end: size }, source, hasher)

export const inclusionProofFrom = (
  index: number,
  size: number,
  source: SubtreeSource,
  hasher: TreeHasher = rfc9162Hasher
): Either.Either<Array<Uint8Array>, InvalidTreeRequest | MissingSubtree> =>
  Either.flatMap(inclusionPlan(index, size), (plan) => resolveAll(plan, source, hasher))

export const consistencyProofFrom = (
  size1: number,
  size2: number,
  source: SubtreeSource,
  hasher: TreeHasher = rfc9162Hasher
): Either.Either<Array<Uint8Array>, InvalidTreeRequest | MissingSubtree> =>
  Either.flatMap(consistencyPlan(size1, size2), (plan) => resolveAll(plan, source, hasher))

/** A perfect node created by appending leaves. */
export interface NewNode extends NodeId {
  readonly hash: Uint8Array
}

/**
 * The nodes appending `leafHashes` at `size` creates (level 0 included), given the tree's existing nodes.
 * Only the right frontier of the old tree — `rangeNodes({0, size})` — is ever read from `existing`; it is kept
 * as a stack (a compact range): each new leaf merges with the frontier while its index is odd at that level.
 */
export const appendNodes = (
  size: number,
  leafHashes: ReadonlyArray<Uint8Array>,
  existing: SubtreeSource,
  hasher: TreeHasher = rfc9162Hasher
): Either.Either<Array<NewNode>, MissingSubtree> => {
  const frontier: Array<Uint8Array> = []
  for (const id of rangeNodes({ start: 0, end: size })) {
    const h = existing(id)
    if (h === undefined) return Either.left(new MissingSubtree({ level: id.level, index: id.index }))
    frontier.push(h)
  }
  return Either.right(appendToFrontier(size, frontier, leafHashes, hasher).nodes)
}

/**
 * The same, from the old frontier itself (`rangeNodes({0, size})` hashes, left to right): the created nodes
 * and the new frontier — what the sequencer stores with the tree size so the next batch reads no nodes.
 */
export const appendToFrontier = (
  size: number,
  frontier: ReadonlyArray<Uint8Array>,
  leafHashes: ReadonlyArray<Uint8Array>,
  hasher: TreeHasher = rfc9162Hasher
): { readonly nodes: Array<NewNode>; readonly frontier: Array<Uint8Array> } => {
  const stack = [...frontier]
  const out: Array<NewNode> = []
  for (let i = 0; i < leafHashes.length; i++) {
    let level = 0
    let index = size + i
    let hash = leafHashes[i]!
    out.push({ level, index, hash })
    while (isOdd(index)) {
      // The frontier's last entry is exactly the left sibling at this level.
      hash = hasher.node(stack.pop()!, hash)
      level++
      index = half(index)
      out.push({ level, index, hash })
    }
    stack.push(hash)
  }
  return { nodes: out, frontier: stack }
}

/** How many frontier nodes a tree of `size` leaves has (one per set bit). */
export const frontierLength = (size: number): number => {
  let n = 0
  for (let s = size; s > 0; s = half(s)) if (isOdd(s)) n++
  return n
}

/**
 * A compact range over [0, size): only the right frontier (one perfect subtree per set bit of `size`), so a
 * tree of any size is rebuilt leaf by leaf in O(log n) memory and its root read at any point — what the
 * integrity job streams through, and what the sequencer keeps between batches.
 */
export class CompactRange {
  private readonly stack: Array<Uint8Array>
  private count: number

  /** Starts at `size` from its frontier, `rangeNodes({0, size})` hashes left to right (none for size 0). */
  constructor(
    private readonly hasher: TreeHasher = rfc9162Hasher,
    size = 0,
    frontier: ReadonlyArray<Uint8Array> = []
  ) {
    this.count = size
    this.stack = [...frontier]
  }

  get size(): number {
    return this.count
  }

  /** The frontier hashes, left to right (largest subtree first). */
  get frontier(): ReadonlyArray<Uint8Array> {
    return this.stack
  }

  appendLeafHash(leafHash: Uint8Array): void {
    let index = this.count
    let hash = leafHash
    while (isOdd(index)) {
      hash = this.hasher.node(this.stack.pop()!, hash)
      index = half(index)
    }
    this.stack.push(hash)
    this.count++
  }

  /** MTH of the leaves so far: the frontier folded from the right (ragged edge). */
  root(): Uint8Array {
    if (this.stack.length === 0) return emptyRoot
    let acc = this.stack[this.stack.length - 1]!
    for (let i = this.stack.length - 2; i >= 0; i--) acc = this.hasher.node(this.stack[i]!, acc)
    return acc
  }
}

const invalid = (reason: string) => Either.left(new InvalidProof({ reason }))

const checkHashes = (proof: ReadonlyArray<Uint8Array>): Either.Either<void, InvalidProof> => {
  for (let i = 0; i < proof.length; i++)
    if (proof[i]!.length !== 32) return invalid(`proof element ${i} is ${proof[i]!.length} bytes, not 32`)
  return Either.void
}

/** RFC 9162 §2.1.3.2. Throws nothing; every rejection is an `InvalidProof` with a reason. */
export const verifyInclusionSync = (
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: ReadonlyArray<Uint8Array>,
  root: Uint8Array
): Either.Either<void, InvalidProof> => {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0)
    return invalid("leaf index and tree size must be non-negative integers")
  if (leafIndex >= treeSize) return invalid(`leaf index ${leafIndex} is beyond tree size ${treeSize}`)
  if (leafHash.length !== 32) return invalid("leaf hash is not 32 bytes")
  const shapeOk = checkHashes(proof)
  if (Either.isLeft(shapeOk)) return shapeOk
  let fn = leafIndex
  let sn = treeSize - 1
  let r = leafHash
  for (const p of proof) {
    if (sn === 0) return invalid("proof is longer than the path to the root")
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      r = hashChildren(r, p)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0) return invalid("proof is shorter than the path to the root")
  return bytesEqual(r, root) ? Either.void : invalid("computed root does not match the expected root")
}

/** RFC 9162 §2.1.4.2. A proof from an empty tree is always rejected (it would prove nothing). */
export const verifyConsistencySync = (
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: ReadonlyArray<Uint8Array>
): Either.Either<void, InvalidProof> => {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0)
    return invalid("tree sizes must be non-negative integers")
  if (size1 > size2) return invalid(`size1 ${size1} is greater than size2 ${size2}`)
  if (size1 === 0) return invalid("a consistency proof from an empty tree proves nothing")
  if (size1 === size2) {
    if (proof.length !== 0) return invalid("equal sizes need an empty proof")
    return bytesEqual(root1, root2) ? Either.void : invalid("equal sizes but different roots")
  }
  if (proof.length === 0) return invalid("empty proof for different sizes")
  const shapeOk = checkHashes(proof)
  if (Either.isLeft(shapeOk)) return shapeOk
  // When size1 is a power of two its root is the first subtree and is left out of the proof.
  let path: ReadonlyArray<Uint8Array> = proof
  let fn = size1 - 1
  let sn = size2 - 1
  if (isPowerOfTwo(size1)) path = [root1, ...proof]
  while (isOdd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0]!
  let sr = path[0]!
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!
    if (sn === 0) return invalid("proof is longer than needed")
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr)
      sr = hashChildren(c, sr)
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      sr = hashChildren(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0) return invalid("proof is shorter than needed")
  if (!bytesEqual(fr, root1)) return invalid("proof does not reproduce the first root")
  if (!bytesEqual(sr, root2)) return invalid("proof does not reproduce the second root")
  return Either.void
}

/** The Effect wrapper over the synchronous consistency check. */
export const verifyConsistency = (
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: ReadonlyArray<Uint8Array>
): Effect.Effect<void, InvalidProof> => Effect.suspend(() => verifyConsistencySync(size1, size2, root1, root2, proof))

/** An in-memory tree over the same storage model; used by tests, the integrity job and the CLI. */
export class MemoryTree {
  private readonly nodes: Array<Array<Uint8Array>> = [[]]
  constructor(private readonly hasher: TreeHasher = rfc9162Hasher) {}

  get size(): number {
    return this.nodes[0]!.length
  }

  readonly source: SubtreeSource = (id) => this.nodes[id.level]?.[id.index]

  appendLeafHash(leafHash: Uint8Array): void {
    const created = appendNodes(this.size, [leafHash], this.source, this.hasher)
    // A tree that only ever grows through appendNodes always holds its own frontier.
    if (Either.isLeft(created)) return
    for (const n of created.right) {
      const row = this.nodes[n.level] ?? []
      row[n.index] = n.hash
      this.nodes[n.level] = row
    }
  }

  append(data: Uint8Array): void {
    this.appendLeafHash(this.hasher.leaf(data))
  }

  root(size: number = this.size): Either.Either<Uint8Array, MissingSubtree> {
    return rootFrom(size, this.source, this.hasher)
  }

  inclusionProof(index: number, size: number = this.size) {
    return inclusionProofFrom(index, size, this.source, this.hasher)
  }

  consistencyProof(size1: number, size2: number = this.size) {
    return consistencyProofFrom(size1, size2, this.source, this.hasher)
  }
}
