import { createServer, type IncomingMessage, type Server } from "node:http"
import { Serialization } from "@cardano-sdk/core"
import { Effect, Either, Layer, ManagedRuntime, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Anchoring } from "./Anchoring.js"
import { ChainConfig, devChainSettings } from "./ChainConfig.js"
import { ChainProvider } from "./ChainProvider.js"
import { toHex } from "./Hash.js"
import { ChainProviderLive } from "./Providers.js"
import { createChainDatabase } from "./TestDatabase.js"
import { decodeAnchor } from "./Transaction.js"
import { AnchorWallet } from "./Wallet.js"

const PROJECT_ID = "preprodTestProject123"

/** A stand-in for Blockfrost that honours the submit and status contracts and refuses what they refuse. */
const fakeBlockfrost = () => {
  const submitted: Array<{ contentType: string | undefined; cborHex: string }> = []
  const confirmed = new Set<string>()
  const forced: Array<number> = []
  let walletAddress = ""
  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => resolve(Buffer.concat(chunks)))
    })
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x")
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(value))
    }
    if (req.headers.project_id !== PROJECT_ID)
      return json(403, { status_code: 403, error: "Forbidden", message: "Invalid project token." })
    const path = url.pathname.replace(/^\/api\/v0/, "")
    if (req.method === "GET" && path === "/epochs/latest/parameters") {
      return json(200, { min_fee_a: 44, min_fee_b: 155381, max_tx_size: 16384, coins_per_utxo_size: "4310" })
    }
    if (req.method === "GET" && path === `/addresses/${walletAddress}/utxos`) {
      return json(200, [
        { tx_hash: "aa".repeat(32), output_index: 1, amount: [{ unit: "lovelace", quantity: "25000000" }] },
        // carries a native asset: the wallet must not spend it (the asset would be lost)
        {
          tx_hash: "bb".repeat(32),
          output_index: 0,
          amount: [
            { unit: "lovelace", quantity: "90000000" },
            { unit: `${"cc".repeat(28)}74657374`, quantity: "1" }
          ]
        }
      ])
    }
    if (req.method === "POST" && path === "/tx/submit") {
      const bytes = await body(req)
      const status = forced.shift()
      if (status !== undefined)
        return json(status, { status_code: status, error: "forced", message: `forced ${status}` })
      if (req.headers["content-type"] !== "application/cbor") {
        return json(415, { status_code: 415, error: "Unsupported Media Type", message: "expects application/cbor" })
      }
      const cborHex = toHex(bytes)
      submitted.push({ contentType: req.headers["content-type"], cborHex })
      try {
        // the id as Blockfrost (the node) computes it, independently of our code
        return json(200, Serialization.Transaction.fromCbor(Serialization.TxCBOR(cborHex)).getId())
      } catch {
        return json(400, { status_code: 400, error: "Bad Request", message: "transaction submit error: deserialise" })
      }
    }
    const tx = /^\/txs\/([0-9a-f]{64})$/.exec(path)
    if (req.method === "GET" && tx !== null) {
      if (!confirmed.has(tx[1]!))
        return json(404, {
          status_code: 404,
          error: "Not Found",
          message: "The requested component has not been found."
        })
      return json(200, { hash: tx[1], block: "dd".repeat(32), block_height: 100, slot: 1, index: 0, fees: "170000" })
    }
    if (req.method === "GET" && path === "/blocks/latest") return json(200, { height: 105 })
    return json(404, { status_code: 404, error: "Not Found", message: "no such endpoint" })
  })
  return {
    server,
    submitted,
    confirmed,
    forced,
    setWallet: (a: string) => {
      walletAddress = a
    }
  }
}

let fake: ReturnType<typeof fakeBlockfrost>
let baseUrl = ""
let db: Awaited<ReturnType<typeof createChainDatabase>>

const runtime = (projectId = PROJECT_ID) => {
  const config = ChainConfig.layerWith(
    devChainSettings({
      provider: "blockfrost",
      blockfrostUrl: Option.some(baseUrl),
      blockfrostProjectId: Option.some(Redacted.make(projectId))
    })
  )
  const wallet = AnchorWallet.layer.pipe(Layer.provide(config))
  return ManagedRuntime.make(
    Anchoring.Default.pipe(
      Layer.provideMerge(ChainProviderLive),
      Layer.provideMerge(Layer.mergeAll(wallet, config)),
      Layer.provideMerge(db.layer)
    )
  )
}

beforeAll(async () => {
  fake = fakeBlockfrost()
  await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()))
  const address = fake.server.address()
  if (address === null || typeof address === "string") throw new Error("the fake server has no TCP address")
  baseUrl = `http://127.0.0.1:${address.port}/api/v0`
  db = await createChainDatabase()
})
afterAll(async () => {
  await new Promise((r) => fake.server.close(r))
  await db.drop()
})

describe("Blockfrost provider", () => {
  it("submits the anchor as application/cbor: the bytes decode to our tx id and checkpoint; confirms via /txs", async () => {
    const rt = runtime()
    fake.setWallet(await rt.runPromise(Effect.map(AnchorWallet, (w) => w.address)))
    const cp = { origin: "brandme.test/blockfrost", treeSize: 77, rootHex: "5e".repeat(32) }
    const row = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint(cp)))
    expect(row.status).toBe("submitted")
    expect(fake.submitted).toHaveLength(1)
    const sent = fake.submitted[0]!
    expect(sent.contentType).toBe("application/cbor")
    expect(sent.cborHex).toBe(row.cborHex)
    expect(await Effect.runPromise(decodeAnchor(sent.cborHex))).toEqual({ txId: row.txId, ...cp })
    // only the ADA-only UTXO was spent
    const spent = Serialization.Transaction.fromCbor(Serialization.TxCBOR(sent.cborHex)).body().inputs().toCore()
    expect(spent).toEqual([{ txId: "aa".repeat(32), index: 1 }])

    const before = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))
    expect(before.transitions).toEqual([])
    fake.confirmed.add(row.txId)
    const after = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))
    expect(after.transitions.map((t) => t.to)).toEqual(["confirmed"])
    const [stored] = await db.query("SELECT block_height, confirmations FROM chain_transactions WHERE id = $1", [
      row.id
    ])
    expect(stored).toEqual({ block_height: "100", confirmations: 6 })
    await rt.dispose()
  })

  it("maps 400 to a non-retryable rejection and 429/5xx to retryable unavailability", async () => {
    const rt = runtime()
    const tx = fake.submitted[0]!.cborHex
    const submit = rt.runPromise(Effect.either(Effect.flatMap(ChainProvider, (p) => p.submit(tx))))
    fake.forced.push(400)
    const r400 = await submit
    expect(Either.isLeft(r400) && r400.left._tag).toBe("ChainSubmitRejected")
    for (const status of [429, 500, 503]) {
      fake.forced.push(status)
      const r = await rt.runPromise(Effect.either(Effect.flatMap(ChainProvider, (p) => p.submit(tx))))
      expect(Either.isLeft(r) && r.left._tag === "ChainProviderUnavailable" && r.left.status).toBe(status)
    }
    await rt.dispose()
  })

  it("a 400 fails the anchor for good; a 503 leaves it pending for a retry", async () => {
    const rt = runtime()
    fake.forced.push(400)
    const rejected = await rt.runPromise(
      Effect.flatMap(Anchoring, (a) =>
        a.anchorCheckpoint({ origin: "brandme.test/blockfrost", treeSize: 78, rootHex: "6f".repeat(32) })
      )
    )
    expect(rejected.status).toBe("failed")
    expect(rejected.lastError).toContain("forced 400")
    fake.forced.push(503)
    const retry = await rt.runPromise(
      Effect.flatMap(Anchoring, (a) =>
        a.anchorCheckpoint({ origin: "brandme.test/blockfrost", treeSize: 79, rootHex: "70".repeat(32) })
      )
    )
    expect(retry.status).toBe("pending")
    expect(retry.attempts).toBe(1)
    expect(retry.nextAttemptAt.getTime()).toBeGreaterThan(Date.now())
    await rt.dispose()
  })

  it("sends the project_id header (a wrong one is refused by the server)", async () => {
    const rt = runtime("wrong-project")
    const r = await rt.runPromise(Effect.either(Effect.flatMap(ChainProvider, (p) => p.protocolParameters)))
    expect(Either.isLeft(r) && r.left.status).toBe(403)
    await rt.dispose()
  })
})
