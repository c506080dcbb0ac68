import { createHash } from "node:crypto"
import type { TreeHasher } from "../../shared/audit/Merkle.js"

const LEAF = Buffer.from([0x00])
const NODE = Buffer.from([0x01])

/** RFC 9162 hashing on node:crypto: ~2x the pure hasher, which matters for bulk appends and rebuilds. */
export const nodeHasher: TreeHasher = {
  // A Buffer is a Uint8Array; returning the digest itself saves a copy per hash.
  leaf: (data) => createHash("sha256").update(LEAF).update(data).digest(),
  node: (l, r) => createHash("sha256").update(NODE).update(l).update(r).digest()
}
