import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fromBase64, fromHex, toBase64, toHex } from "./Bytes.js"
import {
  appendNodes,
  appendToFrontier,
  CompactRange,
  EDGE,
  InvalidProof,
  inclusionPlan,
  inclusionSteps,
  MemoryTree,
  rfc9162Hasher,
  verifyConsistency,
  verifyConsistencySync,
  verifyInclusionSync
} from "./Merkle.js"
import { runVectorDir } from "./VectorRunner.js"

const VECTORS = new URL("../../../shared/testdata/rfc9162-merkle", import.meta.url).pathname
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
]

const referenceTree = (): MemoryTree => {
  const t = new MemoryTree()
  for (const l of LEAVES) t.append(fromHex(l)!)
  return t
}

const unwrap = <A, E>(e: Either.Either<A, E>): A => Either.getOrThrow(e)
const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const c = Uint8Array.from(b)
  c[Math.floor(bit / 8) % c.length]! ^= 1 << (bit % 8)
  return c
}

describe("RFC 9162 conformance vectors", () => {
  it("accepts every happy path and rejects every wantErr case", () => {
    const results = runVectorDir(VECTORS)
    expect(results.length).toBeGreaterThan(150)
    expect(results.filter((r) => !r.passed)).toEqual([])
  })

  it("computes the published roots for sizes 0..8", () => {
    const t = referenceTree()
    for (let n = 0; n <= 8; n++) expect(toHex(unwrap(t.root(n)))).toBe(ROOTS[n])
  })

  it("generates exactly the proofs of the happy-path vectors", () => {
    const t = referenceTree()
    let compared = 0
    for (const kind of ["inclusion", "consistency"]) {
      for (const c of readdirSync(join(VECTORS, kind))) {
        const file = join(VECTORS, kind, c, "happy-path.json")
        let raw: string
        try {
          raw = readFileSync(file, "utf8")
        } catch {
          continue
        }
        const v = JSON.parse(raw)
        if (v.root === undefined && v.size1 === undefined) continue
        if (kind === "inclusion" && v.treeSize <= 8 && toBase64(unwrap(t.root(v.treeSize))) === v.root) {
          expect(unwrap(t.inclusionProof(v.leafIdx, v.treeSize)).map(toBase64)).toEqual(v.proof ?? [])
          compared++
        }
        if (kind === "consistency" && v.size1 >= 1 && v.size2 <= 8) {
          expect(unwrap(t.consistencyProof(v.size1, v.size2)).map(toBase64)).toEqual(v.proof ?? [])
          compared++
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(4)
  })
})

describe("generated proofs (property)", () => {
  const leaves = fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 70 })

  it("every inclusion proof verifies and any flipped bit fails", () => {
    fc.assert(
      fc.property(leaves, fc.nat(), fc.nat(), fc.nat(), (data, a, b, bit) => {
        const t = new MemoryTree()
        for (const d of data) t.append(d)
        const size = 1 + (a % t.size)
        const index = b % size
        const root = unwrap(t.root(size))
        const leafHash = rfc9162Hasher.leaf(data[index]!)
        const proof = unwrap(t.inclusionProof(index, size))
        expect(Either.isRight(verifyInclusionSync(index, size, leafHash, proof, root))).toBe(true)
        expect(Either.isLeft(verifyInclusionSync(index, size, flipBit(leafHash, bit), proof, root))).toBe(true)
        expect(Either.isLeft(verifyInclusionSync(index, size, leafHash, proof, flipBit(root, bit)))).toBe(true)
        if (proof.length > 0) {
          const i = bit % proof.length
          const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p))
          expect(Either.isLeft(verifyInclusionSync(index, size, leafHash, bad, root))).toBe(true)
        }
      })
    )
  })

  it("every consistency proof verifies and any flipped bit fails", () => {
    fc.assert(
      fc.property(leaves, fc.nat(), fc.nat(), fc.nat(), (data, a, b, bit) => {
        const t = new MemoryTree()
        for (const d of data) t.append(d)
        const size2 = 1 + (a % t.size)
        const size1 = 1 + (b % size2)
        const root1 = unwrap(t.root(size1))
        const root2 = unwrap(t.root(size2))
        const proof = unwrap(t.consistencyProof(size1, size2))
        expect(Either.isRight(verifyConsistencySync(size1, size2, root1, root2, proof))).toBe(true)
        expect(Either.isLeft(verifyConsistencySync(size1, size2, flipBit(root1, bit), root2, proof))).toBe(true)
        expect(Either.isLeft(verifyConsistencySync(size1, size2, root1, flipBit(root2, bit), proof))).toBe(true)
        if (proof.length > 0) {
          const i = bit % proof.length
          const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p))
          expect(Either.isLeft(verifyConsistencySync(size1, size2, root1, root2, bad))).toBe(true)
        }
      })
    )
  })

  it("batched appends create the same nodes as one-by-one appends", () => {
    fc.assert(
      fc.property(leaves, fc.nat(), (data, cut) => {
        const one = new MemoryTree()
        for (const d of data) one.append(d)
        const at = cut % data.length
        const head = new MemoryTree()
        for (const d of data.slice(0, at)) head.append(d)
        const created = unwrap(appendNodes(at, data.slice(at).map(rfc9162Hasher.leaf), head.source))
        for (const n of created) expect(toHex(n.hash)).toBe(toHex(one.source(n)!))
      })
    )
  })
})

describe("Effect wrappers", () => {
  it("fail with a typed InvalidProof naming the reason", async () => {
    const root = fromBase64(toBase64(fromHex(ROOTS[1]!)!))!
    const exit = await Effect.runPromise(Effect.either(verifyConsistency(0, 1, root, root, [])))
    expect(Either.isLeft(exit)).toBe(true)
    if (Either.isLeft(exit)) {
      expect(exit.left).toBeInstanceOf(InvalidProof)
      expect(exit.left.reason).toMatch(/empty tree/)
    }
  })
})

describe("CompactRange", () => {
  it("has the RFC 9162 roots of the reference tree at every size", () => {
    const c = new CompactRange()
    expect(toHex(c.root())).toBe(ROOTS[0])
    LEAVES.forEach((l, i) => {
      c.appendLeafHash(rfc9162Hasher.leaf(fromHex(l)!))
      expect(toHex(c.root())).toBe(ROOTS[i + 1])
    })
  })

  it("matches the stored tree and resumes from a frontier (what the sequencer keeps)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (a, b) => {
        const t = new MemoryTree()
        const c = new CompactRange()
        const hashes = Array.from({ length: a + b }, (_, i) => rfc9162Hasher.leaf(new Uint8Array([i % 256, i >> 8])))
        for (const h of hashes.slice(0, a)) {
          t.appendLeafHash(h)
          c.appendLeafHash(h)
        }
        const resumed = new CompactRange(rfc9162Hasher, a, c.frontier)
        const step = appendToFrontier(a, c.frontier, hashes.slice(a))
        for (const h of hashes.slice(a)) {
          t.appendLeafHash(h)
          resumed.appendLeafHash(h)
        }
        const root = unwrap(t.root())
        expect(toHex(resumed.root())).toBe(toHex(root))
        expect(step.frontier.map(toHex)).toEqual(resumed.frontier.map(toHex))
      }),
      { numRuns: 60 }
    )
  })
})

describe("inclusionSteps (the allocation-free planner the proof endpoint runs)", () => {
  const levels = new Int8Array(64)
  const nodes = new Float64Array(64)
  const asRanges = (index: number, size: number) => {
    const n = inclusionSteps(index, size, levels, nodes)
    return Array.from({ length: n }, (_, j) =>
      levels[j] === EDGE
        ? { start: nodes[j]!, end: size }
        : { start: nodes[j]! * 2 ** levels[j]!, end: Math.min((nodes[j]! + 1) * 2 ** levels[j]!, size) }
    )
  }
  it("names exactly the ranges of inclusionPlan, leaf to root, for every index of small trees", () => {
    for (let size = 1; size <= 70; size++)
      for (let index = 0; index < size; index++)
        expect(asRanges(index, size)).toEqual(Either.getOrThrow(inclusionPlan(index, size)))
  })
  it("agrees with inclusionPlan on large trees (perfect steps are whole aligned subtrees)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 52 }), fc.double({ min: 0, max: 1, noNaN: true }), (size, f) => {
        const index = Math.min(size - 1, Math.floor(f * size))
        const n = inclusionSteps(index, size, levels, nodes)
        for (let j = 0; j < n; j++)
          if (levels[j] !== EDGE) expect((nodes[j]! + 1) * 2 ** levels[j]!).toBeLessThanOrEqual(size)
        expect(asRanges(index, size)).toEqual(Either.getOrThrow(inclusionPlan(index, size)))
      })
    )
  })
  it("refuses an index outside the tree", () => {
    expect(inclusionSteps(3, 3, levels, nodes)).toBe(-1)
    expect(inclusionSteps(-1, 3, levels, nodes)).toBe(-1)
    expect(inclusionSteps(0, 0, levels, nodes)).toBe(-1)
  })
})
