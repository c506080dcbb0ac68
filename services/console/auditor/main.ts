/**
 * The auditor page's script (bundled for the browser by ../Bundle.ts). It fetches the signed checkpoint, one
 * entry with its inclusion proof and a consistency proof through the console (same origin; the console
 * forwards to the compliance API with the auditor's token), and verifies all of them here, in the browser,
 * with the very module the CLI and the services use: shared/audit/Merkle.ts (its own synchronous SHA-256)
 * and shared/audit/Checkpoint.ts (note parsing; the optional signature check uses WebCrypto Ed25519).
 * Nothing the server says is taken on trust: every hash is recomputed from the bytes it sent.
 */
import { Effect, Either } from "effect"
import { bytesEqual, fromHex, toHex } from "../../../shared/audit/Bytes.js"
import { parseSignedCheckpoint, parseVerifierKey, verifySignedCheckpoint } from "../../../shared/audit/Checkpoint.js"
import { hashLeaf, verifyConsistencySync, verifyInclusionSync } from "../../../shared/audit/Merkle.js"

interface CheckResult {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`page lacks #${id}`)
  return el as T
}

const TOKEN_KEY = "brandme.auditor.token"

class FetchFailed extends Error {}

const getJson = async (path: string, token: string): Promise<Record<string, unknown>> => {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } })
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok)
    throw new FetchFailed(`${path}: HTTP ${res.status} ${String(body.error ?? "")} ${String(body.message ?? "")}`)
  return body
}

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
  readonly token: string
  readonly index: number
  readonly from: number | undefined
  readonly verifierKey: string
}): Promise<ReadonlyArray<CheckResult>> => {
  const out: Array<CheckResult> = []
  const cpJson = await getJson("/v1/audit/checkpoint", input.token)
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

  const entry = await getJson(`/v1/audit/entries/${input.index}`, input.token)
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
  const cons = await getJson(`/v1/audit/consistency?from=${from}&to=${cp.treeSize}`, input.token)
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

const render = (results: ReadonlyArray<CheckResult>, error?: string) => {
  const status = byId("status")
  const list = byId("checks")
  list.replaceChildren()
  for (const r of results) {
    const li = document.createElement("li")
    li.className = r.ok ? "ok" : "failed"
    li.dataset.check = r.name
    li.textContent = `${r.ok ? "✔" : "✘"} ${r.name}: ${r.detail}`
    list.append(li)
  }
  const ok = error === undefined && results.length > 0 && results.every((r) => r.ok)
  status.className = ok ? "ok" : "failed"
  status.textContent = ok ? "verified" : `FAILED${error === undefined ? "" : `: ${error}`}`
}

const start = () => {
  const form = byId<HTMLFormElement>("audit")
  const token = byId<HTMLInputElement>("token")
  token.value = sessionStorage.getItem(TOKEN_KEY) ?? ""
  form.addEventListener("submit", (ev) => {
    ev.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, token.value)
    const index = Number(byId<HTMLInputElement>("index").value)
    const fromText = byId<HTMLInputElement>("from").value.trim()
    byId("status").textContent = "verifying…"
    byId("status").className = ""
    audit({
      token: token.value.trim(),
      index: Number.isSafeInteger(index) && index >= 0 ? index : 0,
      from: fromText === "" ? undefined : Number(fromText),
      verifierKey: byId<HTMLInputElement>("verifier").value
    }).then(
      (results) => render(results),
      (e: unknown) => render([], e instanceof Error ? e.message : String(e))
    )
  })
  byId("status").textContent = "ready"
}

start()
