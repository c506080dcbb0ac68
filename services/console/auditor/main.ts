/**
 * The auditor page's script (bundled for the browser by ../Bundle.ts). It fetches the signed checkpoint, one
 * entry with its inclusion proof and a consistency proof through the console (same origin; the console
 * forwards to the compliance API with the auditor's token), and verifies all of them here, in the browser,
 * with the very module the CLI and the services use: shared/audit/Merkle.ts (its own synchronous SHA-256)
 * and shared/audit/Checkpoint.ts (note parsing; the optional signature check uses WebCrypto Ed25519).
 * Nothing the server says is taken on trust: every hash is recomputed from the bytes it sent.
 */
import { audit, type CheckResult, FetchFailed } from "./Verify.js"

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`page lacks #${id}`)
  return el as T
}

const TOKEN_KEY = "brandme.auditor.token"

const getJson = async (path: string, token: string): Promise<Record<string, unknown>> => {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } })
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok)
    throw new FetchFailed(`${path}: HTTP ${res.status} ${String(body.error ?? "")} ${String(body.message ?? "")}`)
  return body
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
  // the product passport links here as /auditor#index=<leaf>: the entry to verify
  const linked = /^#index=(\d{1,15})$/.exec(window.location.hash)?.[1]
  if (linked !== undefined) byId<HTMLInputElement>("index").value = linked
  form.addEventListener("submit", (ev) => {
    ev.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, token.value)
    const index = Number(byId<HTMLInputElement>("index").value)
    const fromText = byId<HTMLInputElement>("from").value.trim()
    byId("status").textContent = "verifying…"
    byId("status").className = ""
    const bearer = token.value.trim()
    audit({
      get: (path) => getJson(path, bearer),
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
