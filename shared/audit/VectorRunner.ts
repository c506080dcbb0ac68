/**
 * Runs a folder of RFC 9162 conformance vectors laid out like shared/testdata/rfc9162-merkle
 * (`inclusion/<case>/*.json`, `consistency/<case>/*.json`). Node-only (reads files); the checks are Merkle.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { Either, Schema } from "effect"
import { fromBase64 } from "./Bytes.js"
import { verifyConsistencySync, verifyInclusionSync } from "./Merkle.js"

const Proof = Schema.NullOr(Schema.Array(Schema.String))
const InclusionVector = Schema.Struct({
  leafIdx: Schema.Number,
  treeSize: Schema.Number,
  root: Schema.String,
  leafHash: Schema.String,
  proof: Proof,
  desc: Schema.String,
  wantErr: Schema.Boolean
})
const ConsistencyVector = Schema.Struct({
  size1: Schema.Number,
  size2: Schema.Number,
  root1: Schema.String,
  root2: Schema.String,
  proof: Proof,
  desc: Schema.String,
  wantErr: Schema.Boolean
})

export interface VectorResult {
  readonly file: string
  readonly passed: boolean
  readonly detail: string
}

const b64 = (s: string): Uint8Array => fromBase64(s) ?? new Uint8Array(0)

const listJson = (dir: string): Array<string> => {
  const out: Array<string> = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listJson(p))
    else if (name.endsWith(".json")) out.push(p)
  }
  return out
}

const judge = (file: string, wantErr: boolean, result: Either.Either<void, { readonly reason: string }>) => {
  const rejected = Either.isLeft(result)
  const passed = rejected === wantErr
  const detail = rejected ? `rejected: ${result.left.reason}` : "verified"
  return { file, passed, detail: `${passed ? "ok" : "FAIL"} (${wantErr ? "want error" : "want ok"}, ${detail})` }
}

const runOne = (kind: "inclusion" | "consistency", file: string): VectorResult => {
  const raw: unknown = JSON.parse(readFileSync(file, "utf8"))
  if (kind === "inclusion") {
    const v = Schema.decodeUnknownEither(InclusionVector)(raw)
    if (Either.isLeft(v)) return { file, passed: false, detail: "FAIL (malformed vector file)" }
    const t = v.right
    const proof = (t.proof ?? []).map(b64)
    return judge(file, t.wantErr, verifyInclusionSync(t.leafIdx, t.treeSize, b64(t.leafHash), proof, b64(t.root)))
  }
  const v = Schema.decodeUnknownEither(ConsistencyVector)(raw)
  if (Either.isLeft(v)) return { file, passed: false, detail: "FAIL (malformed vector file)" }
  const t = v.right
  const proof = (t.proof ?? []).map(b64)
  return judge(file, t.wantErr, verifyConsistencySync(t.size1, t.size2, b64(t.root1), b64(t.root2), proof))
}

/** Every vector under `<dir>/inclusion` and `<dir>/consistency` (subtree variants are not supported). */
export const runVectorDir = (dir: string): Array<VectorResult> => {
  const out: Array<VectorResult> = []
  for (const kind of ["inclusion", "consistency"] as const) {
    const sub = join(dir, kind)
    for (const file of listJson(sub)) out.push(runOne(kind, file))
  }
  return out
}
