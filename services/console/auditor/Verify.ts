/**
 * The audit checks both auditor screens run in the browser (the /auditor page and the console app's audit
 * page): the signed checkpoint, one entry's inclusion proof and a consistency proof, each recomputed here with
 * the shared verification module (shared/audit/Merkle.ts, Checkpoint.ts). `get` fetches a JSON answer of the
 * audit API — with a pasted token on /auditor, with the session cookie in the app.
 */
import { Effect, Either } from "effect"
import { bytesEqual, fromHex, toHex } from "../../../shared/audit/Bytes.js"
import { parseSignedCheckpoint, parseVerifierKey, verifySignedCheckpoint } from "../../../shared/audit/Checkpoint.js"
import { hashLeaf, verifyConsistencySync, verifyInclusionSync } from "../../../shared/audit/Merkle.js"

export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

export type GetJson = (path: string) => Promise<Record<string, unknown>>

export class FetchFailed extends Error {}

const str = (o: Record<string, unknown>, k: string): string => {
  const v = o[k]
  if (typeof v !== "string") throw new FetchFailed(`response field ${k} is not a string`)
  return v
}
const num = (o: Record<string, unknown>, k: string): number => {
  const v = o[k]
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new FetchFailed(`response field ${k} is not an integer`)
  return v
}
const hexes = (o: Record<string, unknown>, k: string): Array<Uint8Array> => {
  const v = o[k]
  if (!Array.isArray(v)) throw new FetchFailed(`response field ${k} is not a list`)
  return v.map((x, i) => {
    const b = typeof x === "string" ? fromHex(x) : undefined
    if (b === undefined) throw new FetchFailed(`${k}[${i}] is not hex`)
    return b
  })
}
const hex = (o: Record<string, unknown>, k: string): Uint8Array => {
  const b = fromHex(str(o, k))
  if (b === undefined) throw new FetchFailed(`response field ${k} is not hex`)
  return b
}

/** Runs every check; the checkpoint's signed root is the one everything else must reach. */
export const audit = async (input: {
  readonly get: GetJson
  readonly index: number
  readonly from: number | undefined
  readonly verifierKey: string
}): Promise<ReadonlyArray<CheckResult>> => {
  const out: Array<CheckResult> = []
  const cpJson = await input.get("/v1/audit/checkpoint")
  const parsed = parseSignedCheckpoint(str(cpJson, "note"))
  if (Either.isLeft(parsed)) return [{ name: "checkpoint", ok: false, detail: parsed.left.reason }]
  const cp = parsed.right.checkpoint
  out.push({
    name: "checkpoint",
    ok: cp.treeSize === num(cpJson, "treeSize") && toHex(cp.rootHash) === str(cpJson, "rootHash"),
    detail: `${cp.origin} · size ${cp.treeSize} · root ${toHex(cp.rootHash).slice(0, 16)}…`
  })
  if (input.verifierKey.trim() !== "") {
    const key = parseVerifierKey(input.verifierKey.trim())
    const sig = Either.isLeft(key)
      ? Either.left(key.left.reason)
      : await Effect.runPromise(
          Effect.either(verifySignedCheckpoint(str(cpJson, "note"), key.right)).pipe(
            Effect.map(Either.mapLeft((e) => e.reason))
          )
        )
    out.push({
      name: "signature",
      ok: Either.isRight(sig),
      detail: Either.isRight(sig) ? "Ed25519 signature verifies" : sig.left
    })
  }

  const entry = await input.get(`/v1/audit/entries/${input.index}`)
  const leafData = hex(entry, "leafData")
  const leafHash = hashLeaf(leafData)
  const served = hex(entry, "leafHash")
  const entrySize = num(entry, "treeSize")
  // The entry's proof is against the checkpoint it names; it must be the one we checked.
  const inclusion = bytesEqual(leafHash, served)
    ? entrySize === cp.treeSize
      ? verifyInclusionSync(input.index, entrySize, leafHash, hexes(entry, "inclusionProof"), cp.rootHash)
      : Either.left({ reason: `entry is proven against size ${entrySize}, the checkpoint is ${cp.treeSize}` })
    : Either.left({ reason: "leaf hash does not match the leaf bytes" })
  out.push({
    name: "inclusion",
    ok: Either.isRight(inclusion),
    detail: Either.isRight(inclusion)
      ? `entry ${input.index} (${str(entry, "kind")}) is in the tree of size ${cp.treeSize}`
      : inclusion.left.reason
  })

  const from = input.from ?? Math.max(1, Math.floor(cp.treeSize / 2))
  const cons = await input.get(`/v1/audit/consistency?from=${from}&to=${cp.treeSize}`)
  const consistency = verifyConsistencySync(from, cp.treeSize, hex(cons, "fromRoot"), cp.rootHash, hexes(cons, "proof"))
  out.push({
    name: "consistency",
    ok: Either.isRight(consistency),
    detail: Either.isRight(consistency)
      ? `the tree of size ${from} is a prefix of the tree of size ${cp.treeSize}`
      : consistency.left.reason
  })
  return out
}
