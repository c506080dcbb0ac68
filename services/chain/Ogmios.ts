import { TxSubmissionErrorCode } from "@cardano-sdk/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Layer, Option, Schema } from "effect"
import { ChainConfig } from "./ChainConfig.js"
import { ChainProvider, type ChainProviderService, type ChainTxStatus } from "./ChainProvider.js"
import { ChainProviderUnavailable, ChainSubmitRejected, describe } from "./Errors.js"
import type { Utxo } from "./Transaction.js"

const RpcError = Schema.Struct({ code: Schema.Number, message: Schema.String, data: Schema.optional(Schema.Unknown) })
const RpcResponse = Schema.Struct({
  jsonrpc: Schema.Literal("2.0"),
  result: Schema.optional(Schema.Unknown),
  error: Schema.optional(RpcError)
})
const Lovelace = Schema.Struct({ ada: Schema.Struct({ lovelace: Schema.Number }) })
const Parameters = Schema.Struct({
  minFeeCoefficient: Schema.Number,
  minFeeConstant: Lovelace,
  minUtxoDepositCoefficient: Schema.Number,
  maxTransactionSize: Schema.Struct({ bytes: Schema.Number })
})
const OgmiosUtxo = Schema.Struct({
  transaction: Schema.Struct({ id: Schema.String }),
  index: Schema.Number,
  address: Schema.String,
  value: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
const AdaOnly = Schema.Struct({ ada: Schema.Struct({ lovelace: Schema.Union(Schema.Number, Schema.BigInt) }) })
const SubmitResult = Schema.Struct({ transaction: Schema.Struct({ id: Schema.String }) })

/** Ogmios' ledger submission failures are 3000–3999 plus -32602 (undecodable CBOR); 3997 is a mempool hiccup. */
const isTransactionFault = (code: number) => code === -32602 || (code >= 3000 && code < 4000 && code !== 3997)

/**
 * Ogmios v6 over HTTP (JSON-RPC 2.0, one POST per call): `submitTransaction` with `{ transaction: { cbor } }`,
 * `queryLedgerState/protocolParameters` and `queryLedgerState/utxo`. Ogmios cannot look a transaction
 * up by id, so `status` asks whether the anchor's change output (index 0) is in the ledger's UTXO set:
 * present → confirmed (without a block number); absent → pending. Anchoring polls confirmations before
 * it spends that output again, which keeps the answer meaningful.
 */
export const makeOgmios = (url: string) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const unavailable = (operation: string, status?: number) => (e: unknown) =>
      new ChainProviderUnavailable({
        provider: "ogmios",
        operation,
        message: describe(e),
        ...(status === undefined ? {} : { status })
      })
    let nextId = 0

    /** One JSON-RPC call; a JSON-RPC error comes back as a value for the caller to classify. */
    const rpc = (method: string, params: unknown) =>
      Effect.gen(function* () {
        const request = yield* HttpClientRequest.post(url).pipe(
          HttpClientRequest.bodyJson({ jsonrpc: "2.0", method, params, id: ++nextId }),
          Effect.mapError(unavailable(method))
        )
        const res = yield* client.execute(request).pipe(Effect.mapError(unavailable(method)))
        const text = yield* res.text.pipe(Effect.mapError(unavailable(method, res.status)))
        const body = Schema.decodeUnknownOption(Schema.parseJson(RpcResponse))(text)
        if (Option.isNone(body)) {
          return yield* unavailable(method, res.status)(`HTTP ${res.status}: ${text.slice(0, 300)}`)
        }
        return body.value
      })

    const result = <A, I>(method: string, schema: Schema.Schema<A, I>, params: unknown = {}) =>
      Effect.flatMap(rpc(method, params), (r) =>
        r.error !== undefined
          ? Effect.fail(unavailable(method)(`${r.error.code}: ${r.error.message}`))
          : Schema.decodeUnknown(schema)(r.result).pipe(Effect.mapError(unavailable(method)))
      )

    const protocolParameters = result("queryLedgerState/protocolParameters", Parameters).pipe(
      Effect.map((p) => ({
        minFeeA: BigInt(p.minFeeCoefficient),
        minFeeB: BigInt(p.minFeeConstant.ada.lovelace),
        coinsPerUtxoByte: BigInt(p.minUtxoDepositCoefficient),
        maxTxSize: p.maxTransactionSize.bytes
      }))
    )

    const utxos = (address: string) =>
      result("queryLedgerState/utxo", Schema.Array(OgmiosUtxo), { addresses: [address] }).pipe(
        Effect.map((rows) =>
          rows.flatMap((u): Array<Utxo> => {
            // only outputs holding nothing but ADA: anything else would need its assets carried over
            const ada = Schema.decodeUnknownOption(AdaOnly)(u.value)
            return Object.keys(u.value).length === 1 && Option.isSome(ada)
              ? [
                  {
                    txId: u.transaction.id,
                    index: u.index,
                    address: u.address,
                    lovelace: BigInt(ada.value.ada.lovelace)
                  }
                ]
              : []
          })
        )
      )

    const submit = (cborHex: string): Effect.Effect<string, ChainSubmitRejected | ChainProviderUnavailable> =>
      Effect.flatMap(
        rpc("submitTransaction", { transaction: { cbor: cborHex } }),
        (r): Effect.Effect<string, ChainSubmitRejected | ChainProviderUnavailable> => {
          if (r.error !== undefined) {
            const { code, message } = r.error
            return isTransactionFault(code)
              ? Effect.fail(
                  new ChainSubmitRejected({
                    provider: "ogmios",
                    code: TxSubmissionErrorCode[code] ?? String(code),
                    message
                  })
                )
              : Effect.fail(unavailable("submitTransaction")(`${code}: ${message}`))
          }
          return Schema.decodeUnknown(SubmitResult)(r.result).pipe(
            Effect.map((s) => s.transaction.id),
            Effect.mapError(unavailable("submitTransaction"))
          )
        }
      )

    const status = (txId: string) =>
      result("queryLedgerState/utxo", Schema.Array(OgmiosUtxo), {
        outputReferences: [{ transaction: { id: txId }, index: 0 }]
      }).pipe(Effect.map((rows): ChainTxStatus => (rows.length > 0 ? { state: "confirmed" } : { state: "pending" })))

    const provider: ChainProviderService = { name: "ogmios", protocolParameters, utxos, submit, status }
    return provider
  })

export const OgmiosLayer = Layer.effect(
  ChainProvider,
  Effect.flatMap(ChainConfig, (c) => makeOgmios(c.ogmiosUrl))
)
