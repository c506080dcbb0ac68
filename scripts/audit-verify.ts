/**
 * audit-verify — offline verification of the Brand.Me audit log (needs no database).
 * Uses the same verification module as the services and the console (shared/audit).
 */
import { readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { Effect, Either } from "effect"
import { fromBase64, fromHex, toBase64, toHex } from "../shared/audit/Bytes.js"
import { parseSignedCheckpoint, parseVerifierKey, verifySignedCheckpoint } from "../shared/audit/Checkpoint.js"
import { hashLeaf, verifyConsistencySync, verifyInclusionSync } from "../shared/audit/Merkle.js"
import { runVectorDir } from "../shared/audit/VectorRunner.js"

const HELP = `audit-verify — verify Brand.Me audit log proofs, checkpoints and anchors offline

Hashes (--leaf-hash, --root, --root1, --root2, --proof items) may be hex (64 hex digits) or standard
base64 with padding (44 characters); each value is read as hex when it is 64 hex digits, else as base64.
--proof is a comma-separated list (leaf-to-root order, as RFC 9162 and GET /v1/audit/... return them).

Commands
  inclusion   --index N --size N (--leaf-hash H | --leaf-data HEX) --proof H,H,... --root H
  consistency --size1 N --size2 N --root1 H --root2 H --proof H,H,...
  checkpoint  <file> --key <verifier key>        verifier key: <name>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>
  anchor      --checkpoint <file> --tx <file>   tx file holds the Cardano transaction CBOR as hex; checks that its
              CIP-20 (label 674) anchor names the checkpoint's origin, size and root [--key <verifier key>]
  vectors     <dir>                             RFC 9162 vectors laid out like shared/testdata/rfc9162-merkle;
              last line: "N passed, M failed"

Exit status: 0 verified, 1 rejected, 2 usage error.`

/** A usage error: the CLI prints it and exits 2 (thrown only inside this script, caught in main). */
class Usage {
  constructor(readonly message: string) {}
}

const hash = (name: string, v: string | undefined): Uint8Array => {
  if (v === undefined) throw new Usage(`--${name} is required`)
  const b = /^[0-9a-fA-F]{64}$/.test(v) ? fromHex(v) : fromBase64(v)
  if (b === undefined) throw new Usage(`--${name} is neither 64 hex digits nor base64`)
  return b
}
const int = (name: string, v: string | undefined): number => {
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new Usage(`--${name} must be a non-negative integer`)
  return Number(v)
}
const proofList = (v: string | undefined): Array<Uint8Array> => {
  if (v === undefined) throw new Usage("--proof is required (use --proof '' for an empty proof)")
  return v
    .split(",")
    .filter((item) => item.length > 0)
    .map((item) => hash("proof", item))
}

export type Outcome = { readonly code: 0 | 1 | 2; readonly lines: ReadonlyArray<string> }
const verdict = (r: Either.Either<unknown, { readonly reason: string }>, ok: string): Outcome =>
  Either.isRight(r) ? { code: 0, lines: [ok] } : { code: 1, lines: [`REJECTED: ${r.left.reason}`] }

const readText = (path: string): string => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path))
  } catch (e) {
    throw new Usage(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

const options = {
  index: { type: "string" },
  size: { type: "string" },
  "leaf-hash": { type: "string" },
  "leaf-data": { type: "string" },
  proof: { type: "string" },
  root: { type: "string" },
  size1: { type: "string" },
  size2: { type: "string" },
  root1: { type: "string" },
  root2: { type: "string" },
  key: { type: "string" },
  checkpoint: { type: "string" },
  tx: { type: "string" },
  help: { type: "boolean", short: "h" }
} as const

const run = async (argv: ReadonlyArray<string>): Promise<Outcome> => {
  const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  const o = parsed.values
  const [command, ...rest] = parsed.positionals
  if (o.help === true || command === undefined || command === "help") return { code: 0, lines: [HELP] }
  switch (command) {
    case "inclusion": {
      const data = o["leaf-data"] === undefined ? undefined : fromHex(o["leaf-data"])
      if (o["leaf-data"] !== undefined && data === undefined) throw new Usage("--leaf-data must be hex")
      const leafHash = data !== undefined ? hashLeaf(data) : hash("leaf-hash", o["leaf-hash"])
      const index = int("index", o.index)
      const size = int("size", o.size)
      const proof = proofList(o.proof)
      const root = hash("root", o.root)
      return verdict(
        verifyInclusionSync(index, size, leafHash, proof, root),
        `OK: leaf ${index} is in the tree of size ${size}`
      )
    }
    case "consistency": {
      const size1 = int("size1", o.size1)
      const size2 = int("size2", o.size2)
      const root1 = hash("root1", o.root1)
      const root2 = hash("root2", o.root2)
      const proof = proofList(o.proof)
      return verdict(
        verifyConsistencySync(size1, size2, root1, root2, proof),
        `OK: the tree of size ${size2} extends the tree of size ${size1}`
      )
    }
    case "checkpoint": {
      const file = rest[0]
      if (file === undefined || o.key === undefined)
        return { code: 2, lines: ["usage: checkpoint <file> --key <verifier key>"] }
      const note = readText(file)
      const key = parseVerifierKey(o.key)
      if (Either.isLeft(key)) return { code: 2, lines: [`bad --key: ${key.left.reason}`] }
      const r = await Effect.runPromise(Effect.either(verifySignedCheckpoint(note, key.right)))
      return Either.isRight(r)
        ? {
            code: 0,
            lines: [
              `OK: ${r.right.origin} size ${r.right.treeSize} root ${toHex(r.right.rootHash)} signed by ${key.right.name}`
            ]
          }
        : { code: 1, lines: [`REJECTED: ${r.left.reason}`] }
    }
    case "anchor": {
      if (o.checkpoint === undefined || o.tx === undefined)
        return { code: 2, lines: ["usage: anchor --checkpoint <file> --tx <cbor hex file> [--key <verifier key>]"] }
      const note = readText(o.checkpoint)
      const txHex = readText(o.tx)
      if (o.key !== undefined) {
        const key = parseVerifierKey(o.key)
        if (Either.isLeft(key)) return { code: 2, lines: [`bad --key: ${key.left.reason}`] }
        const sig = await Effect.runPromise(Effect.either(verifySignedCheckpoint(note, key.right)))
        if (Either.isLeft(sig)) return { code: 1, lines: [`REJECTED: checkpoint: ${sig.left.reason}`] }
      }
      const cp = parseSignedCheckpoint(note)
      if (Either.isLeft(cp)) return { code: 1, lines: [`REJECTED: checkpoint: ${cp.left.reason}`] }
      // Loaded on demand: the Cardano SDK is heavy and only this command needs it.
      const { decodeAnchor } = await import("../services/chain/Transaction.js")
      const anchor = await Effect.runPromise(Effect.either(decodeAnchor(txHex.trim())))
      if (Either.isLeft(anchor)) return { code: 1, lines: [`REJECTED: transaction: ${anchor.left.message}`] }
      const c = cp.right.checkpoint
      const a = anchor.right
      const diffs = [
        ...(a.origin === c.origin ? [] : [`origin ${a.origin} ≠ ${c.origin}`]),
        ...(a.treeSize === c.treeSize ? [] : [`size ${a.treeSize} ≠ ${c.treeSize}`]),
        ...(a.rootHex === toHex(c.rootHash) ? [] : [`root ${a.rootHex} ≠ ${toHex(c.rootHash)}`])
      ]
      return diffs.length === 0
        ? { code: 0, lines: [`OK: tx ${a.txId} anchors ${c.origin} size ${c.treeSize} root ${toBase64(c.rootHash)}`] }
        : { code: 1, lines: [`REJECTED: anchor does not match the checkpoint: ${diffs.join("; ")}`] }
    }
    case "vectors": {
      const dir = rest[0]
      if (dir === undefined) return { code: 2, lines: ["usage: vectors <dir>"] }
      let results: ReturnType<typeof runVectorDir>
      try {
        results = runVectorDir(dir)
      } catch (e) {
        return { code: 2, lines: [`cannot read vectors in ${dir}: ${e instanceof Error ? e.message : String(e)}`] }
      }
      const failed = results.filter((r) => !r.passed)
      return {
        code: failed.length > 0 ? 1 : 0,
        lines: [
          ...failed.map((r) => `${r.file}: ${r.detail}`),
          `${results.length - failed.length} passed, ${failed.length} failed`
        ]
      }
    }
    default:
      return { code: 2, lines: [`unknown command "${command}"`, "", HELP] }
  }
}

/** The whole CLI as a function (tests call it in-process; spawning tsx is slow on a shared machine). */
export const runCli = (argv: ReadonlyArray<string>): Promise<Outcome> =>
  run(argv).catch((e: unknown) => ({
    code: 2 as const,
    lines: [e instanceof Usage || e instanceof Error ? e.message : String(e)]
  }))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCli(process.argv.slice(2)).then((r) => {
    for (const l of r.lines) (r.code === 2 ? process.stderr : process.stdout).write(`${l}\n`)
    process.exitCode = r.code
  })
}
