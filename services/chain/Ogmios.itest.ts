import { createServer, type Server } from "node:http"
import { Serialization } from "@cardano-sdk/core"
import { Effect, Either, Layer, ManagedRuntime, Option, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Anchoring } from "./Anchoring.js"
import { ChainConfig, devChainSettings } from "./ChainConfig.js"
import { ChainProvider } from "./ChainProvider.js"
import { ChainProviderLive } from "./Providers.js"
import { createChainDatabase } from "./TestDatabase.js"
import { decodeAnchor } from "./Transaction.js"
import { AnchorWallet } from "./Wallet.js"

const Request = Schema.Struct({
  jsonrpc: Schema.optional(Schema.String),
  method: Schema.optional(Schema.String),
  params: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  id: Schema.optional(Schema.Unknown)
})
const OutputRefs = Schema.Array(
  Schema.Struct({ transaction: Schema.Struct({ id: Schema.String }), index: Schema.Number })
)

/** A stand-in for Ogmios v6's HTTP JSON-RPC: submitTransaction and the two ledger-state queries we use. */
const fakeOgmios = () => {
  const submitted: Array<string> = []
  const confirmed = new Set<string>()
  const forced: Array<{ http?: number; code?: number }> = []
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(JSON.stringify(value))
      }
      const parsed = Schema.decodeUnknownOption(Schema.parseJson(Request))(Buffer.concat(chunks).toString("utf8"))
      if (Option.isNone(parsed)) {
        return reply(400, { jsonrpc: "2.0", error: { code: -32700, message: "parse error" }, id: null })
      }
      const msg = parsed.value
      const ok = (result: unknown) => reply(200, { jsonrpc: "2.0", method: msg.method, result, id: msg.id })
      const fail = (code: number, message: string) =>
        reply(200, { jsonrpc: "2.0", method: msg.method, error: { code, message }, id: msg.id })
      if (msg.jsonrpc !== "2.0" || msg.id === undefined) return fail(-32600, "invalid request")
      const p = msg.params ?? {}
      switch (msg.method) {
        case "queryLedgerState/protocolParameters":
          return ok({
            minFeeCoefficient: 44,
            minFeeConstant: { ada: { lovelace: 155381 } },
            minUtxoDepositCoefficient: 4310,
            maxTransactionSize: { bytes: 16384 }
          })
        case "queryLedgerState/utxo": {
          const refs = Schema.decodeUnknownOption(OutputRefs)(p.outputReferences)
          if (Option.isSome(refs)) {
            return ok(
              refs.value
                .filter((r) => confirmed.has(r.transaction.id))
                .map((r) => ({
                  transaction: r.transaction,
                  index: r.index,
                  address: "x",
                  value: { ada: { lovelace: 1 } }
                }))
            )
          }
          const [address] = Schema.decodeUnknownOption(Schema.Array(Schema.String))(p.addresses).pipe(
            Option.getOrElse((): ReadonlyArray<string> => [])
          )
          return ok([
            { transaction: { id: "ab".repeat(32) }, index: 2, address, value: { ada: { lovelace: 30000000 } } },
            {
              transaction: { id: "cd".repeat(32) },
              index: 0,
              address,
              value: { ada: { lovelace: 80000000 }, ["ef".repeat(28)]: { "74657374": 1 } }
            }
          ])
        }
        case "submitTransaction": {
          const f = forced.shift()
          if (f?.http !== undefined) return reply(f.http, { message: "upstream unavailable" })
          if (f?.code !== undefined) return fail(f.code, `forced ${f.code}`)
          const tx = Schema.decodeUnknownOption(Schema.Struct({ cbor: Schema.String }))(p.transaction)
          if (Option.isNone(tx)) return fail(-32602, "expected params.transaction.cbor")
          const cbor = tx.value.cbor
          try {
            const id = Serialization.Transaction.fromCbor(Serialization.TxCBOR(cbor)).getId()
            submitted.push(cbor)
            return ok({ transaction: { id } })
          } catch {
            return fail(-32602, "deserialisation failure")
          }
        }
        default:
          return fail(-32601, `unknown method ${msg.method}`)
      }
    })
  })
  return { server, submitted, confirmed, forced }
}

let fake: ReturnType<typeof fakeOgmios>
let url = ""
let db: Awaited<ReturnType<typeof createChainDatabase>>

const runtime = () => {
  const config = ChainConfig.layerWith(devChainSettings({ provider: "ogmios", ogmiosUrl: url }))
  return ManagedRuntime.make(
    Anchoring.Default.pipe(
      Layer.provideMerge(ChainProviderLive),
      Layer.provideMerge(Layer.mergeAll(AnchorWallet.layer.pipe(Layer.provide(config)), config)),
      Layer.provideMerge(db.layer)
    )
  )
}

beforeAll(async () => {
  fake = fakeOgmios()
  await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", () => r()))
  const address = fake.server.address()
  if (address === null || typeof address === "string") throw new Error("the fake server has no TCP address")
  url = `http://127.0.0.1:${address.port}`
  db = await createChainDatabase()
})
afterAll(async () => {
  await new Promise((r) => fake.server.close(r))
  await db.drop()
})

describe("Ogmios provider", () => {
  it("submits { transaction: { cbor } } whose bytes decode to our tx id and checkpoint; confirms via the UTXO set", async () => {
    const rt = runtime()
    const cp = { origin: "brandme.test/ogmios", treeSize: 9, rootHex: "9a".repeat(32) }
    const row = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint(cp)))
    expect(row.status).toBe("submitted")
    expect(fake.submitted).toEqual([row.cborHex])
    expect(await Effect.runPromise(decodeAnchor(fake.submitted[0]!))).toEqual({ txId: row.txId, ...cp })
    const inputs = Serialization.Transaction.fromCbor(Serialization.TxCBOR(row.cborHex)).body().inputs().toCore()
    expect(inputs).toEqual([{ txId: "ab".repeat(32), index: 2 }])

    expect((await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))).transitions).toEqual([])
    fake.confirmed.add(row.txId)
    const after = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))
    expect(after.transitions.map((t) => t.to)).toEqual(["confirmed"])
    await rt.dispose()
  })

  it("maps ledger failures to rejections and transport failures to retryable errors", async () => {
    const rt = runtime()
    const submit = Effect.either(Effect.flatMap(ChainProvider, (p) => p.submit(fake.submitted[0]!)))
    fake.forced.push({ code: 3122 })
    const fee = await rt.runPromise(submit)
    expect(Either.isLeft(fee) && fee.left._tag === "ChainSubmitRejected" && fee.left.code).toBe(
      "TransactionFeeTooSmall"
    )
    fake.forced.push({ code: -32602 })
    const garbage = await rt.runPromise(submit)
    expect(Either.isLeft(garbage) && garbage.left._tag).toBe("ChainSubmitRejected")
    fake.forced.push({ http: 503 })
    const down = await rt.runPromise(submit)
    expect(Either.isLeft(down) && down.left._tag === "ChainProviderUnavailable" && down.left.status).toBe(503)
    fake.forced.push({ code: 3997 })
    const mempool = await rt.runPromise(submit)
    expect(Either.isLeft(mempool) && mempool.left._tag).toBe("ChainProviderUnavailable")
    await rt.dispose()
  })
})
