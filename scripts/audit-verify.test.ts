import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Either, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { fromHex, toHex } from "../shared/audit/Bytes.js"
import { generateSignerKey, parseSignerKey, signCheckpoint } from "../shared/audit/CheckpointSigner.js"
import { DEV_CHAIN_SIGNING_KEY } from "../shared/config/AppConfig.js"
import { buildAnchorTx, MAINNET_LIKE_PARAMETERS } from "../services/chain/Transaction.js"
import { makeWallet } from "../services/chain/Wallet.js"

const script = fileURLToPath(new URL("./audit-verify.ts", import.meta.url))
const vectors = fileURLToPath(new URL("../../shared/testdata/rfc9162-merkle", import.meta.url))
import { runCli } from "./audit-verify.js"

const cli = async (...args: Array<string>) => {
  const r = await runCli(args)
  return { code: r.code, out: r.lines.join("\n").split("\n") }
}
/** The real process, once: stdout's last line and the exit status. */
const spawnCli = (...args: Array<string>) =>
  new Promise<{ code: number | null; out: Array<string> }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (d) => {
      out += d
    })
    child.on("exit", (code) => resolve({ code, out: out.trim().split("\n") }))
  })

const ORIGIN = "brandme.test/audit"
const ROOT = fromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")!

describe("audit-verify CLI", () => {
  it("runs every shared RFC 9162 vector and ends with 'N passed, 0 failed'", async () => {
    const r = await spawnCli("vectors", vectors)
    expect(r.code).toBe(0)
    const last = r.out[r.out.length - 1] ?? ""
    expect(last).toMatch(/^\d+ passed, 0 failed$/)
    expect(Number(last.split(" ")[0])).toBeGreaterThan(150)
  }, 120_000)

  it("verifies a signed checkpoint and its Cardano anchor; rejects a mismatching anchor", async () => {
    const keys = generateSignerKey(ORIGIN)
    const signer = Either.getOrThrow(parseSignerKey(keys.signerKey))
    const dir = mkdtempSync(join(tmpdir(), "audit-verify-"))
    const note = signCheckpoint(signer, { origin: ORIGIN, treeSize: 8, rootHash: ROOT, extensions: [] })
    const other = signCheckpoint(signer, { origin: ORIGIN, treeSize: 9, rootHash: ROOT, extensions: [] })
    writeFileSync(join(dir, "cp"), note)
    writeFileSync(join(dir, "other"), other)
    const wallet = await Effect.runPromise(makeWallet(Redacted.make(DEV_CHAIN_SIGNING_KEY), "preprod"))
    const tx = await Effect.runPromise(
      buildAnchorTx(
        { origin: ORIGIN, treeSize: 8, rootHex: toHex(ROOT) },
        {
          utxos: [{ txId: "11".repeat(32), index: 0, address: wallet.address, lovelace: 50_000_000n }],
          params: MAINNET_LIKE_PARAMETERS,
          wallet
        }
      )
    )
    writeFileSync(join(dir, "tx"), tx.cborHex)

    expect((await cli("checkpoint", join(dir, "cp"), "--key", keys.verifierKey)).code).toBe(0)
    const wrongKey = await cli("checkpoint", join(dir, "cp"), "--key", generateSignerKey(ORIGIN).verifierKey)
    expect(wrongKey.code).toBe(1)
    const ok = await cli("anchor", "--checkpoint", join(dir, "cp"), "--tx", join(dir, "tx"), "--key", keys.verifierKey)
    expect(ok.out.join("\n")).toMatch(/^OK: tx [0-9a-f]{64} anchors/)
    expect(ok.code).toBe(0)
    const mismatch = await cli("anchor", "--checkpoint", join(dir, "other"), "--tx", join(dir, "tx"))
    expect(mismatch.code).toBe(1)
    expect(mismatch.out.join("\n")).toMatch(/size 8 ≠ 9/)
    const vectorsInProcess = await cli("vectors", vectors)
    expect(vectorsInProcess.out[vectorsInProcess.out.length - 1]).toMatch(/^\d+ passed, 0 failed$/)
  }, 60_000)

  it("prints help and refuses bad usage with exit 2", async () => {
    expect((await cli("--help")).out.join("\n")).toMatch(/Commands/)
    expect((await cli("inclusion", "--index", "1")).code).toBe(2)
  })
})
