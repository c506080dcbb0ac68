import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { blockfrostBaseUrl, ChainConfig } from "./ChainConfig.js"
import { ChainProvider, type ChainProviderService, type ChainTxStatus } from "./ChainProvider.js"
import { ChainConfigError, ChainProviderUnavailable, ChainSubmitRejected, describe } from "./Errors.js"
import { fromHex } from "./Hash.js"
import type { Utxo } from "./Transaction.js"

export interface BlockfrostOptions {
  readonly baseUrl: string
  readonly projectId: Redacted.Redacted<string>
}

const Parameters = Schema.Struct({
  min_fee_a: Schema.Number,
  min_fee_b: Schema.Number,
  max_tx_size: Schema.Number,
  coins_per_utxo_size: Schema.NullOr(Schema.String)
})
const AddressUtxo = Schema.Struct({
  tx_hash: Schema.String,
  output_index: Schema.Number,
  amount: Schema.Array(Schema.Struct({ unit: Schema.String, quantity: Schema.String }))
})
const TxContent = Schema.Struct({ hash: Schema.String, block_height: Schema.Number })
const LatestBlock = Schema.Struct({ height: Schema.Number })
const ErrorBody = Schema.Struct({
  status_code: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.String)
})

const PAGE = 100

/**
 * Blockfrost: submit with `POST /tx/submit` (raw CBOR, `Content-Type: application/cbor`), status with
 * `GET /txs/{hash}` (404 until the transaction is in a block). 400 means the transaction is invalid (not
 * retryable); 429, 5xx, 402/403/418 (quota, auth, ban) and network failures are retryable.
 */
export const makeBlockfrost = (o: BlockfrostOptions) =>
  Effect.gen(function* () {
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.setHeader("project_id", Redacted.value(o.projectId)))
    )
    const base = o.baseUrl.replace(/\/+$/, "")
    const unavailable = (operation: string, status?: number) => (e: unknown) =>
      new ChainProviderUnavailable({
        provider: "blockfrost",
        operation,
        message: describe(e),
        ...(status === undefined ? {} : { status })
      })

    /** Runs a request; answers the status and the body text; only transport failures fail here. */
    const send = (operation: string, request: HttpClientRequest.HttpClientRequest) =>
      client.execute(request).pipe(
        Effect.flatMap((res) => Effect.map(res.text, (text) => ({ status: res.status, text }))),
        Effect.mapError(unavailable(operation))
      )

    const errorMessage = (text: string) =>
      Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))(text).pipe(
        Option.flatMap((b) => Option.fromNullable(b.message)),
        Option.getOrElse(() => text.slice(0, 500))
      )

    const ok = <A, I>(operation: string, schema: Schema.Schema<A, I>, r: { status: number; text: string }) =>
      r.status >= 200 && r.status < 300
        ? Schema.decodeUnknown(Schema.parseJson(schema))(r.text).pipe(Effect.mapError(unavailable(operation, r.status)))
        : Effect.fail(unavailable(operation, r.status)(`HTTP ${r.status}: ${errorMessage(r.text)}`))

    const protocolParameters = send(
      "protocolParameters",
      HttpClientRequest.get(`${base}/epochs/latest/parameters`)
    ).pipe(
      Effect.flatMap((r) => ok("protocolParameters", Parameters, r)),
      Effect.map((p) => ({
        minFeeA: BigInt(p.min_fee_a),
        minFeeB: BigInt(p.min_fee_b),
        coinsPerUtxoByte: BigInt(p.coins_per_utxo_size ?? "4310"),
        maxTxSize: p.max_tx_size
      }))
    )

    const utxos = (address: string) =>
      Effect.gen(function* () {
        const out: Array<Utxo> = []
        for (let page = 1; ; page++) {
          const r = yield* send(
            "utxos",
            HttpClientRequest.get(`${base}/addresses/${address}/utxos`, { urlParams: { page, count: PAGE } })
          )
          // an address that never received anything is a 404, not an error
          if (r.status === 404) return out
          const rows = yield* ok("utxos", Schema.Array(AddressUtxo), r)
          for (const u of rows) {
            const [only] = u.amount
            if (u.amount.length === 1 && only?.unit === "lovelace") {
              out.push({ txId: u.tx_hash, index: u.output_index, address, lovelace: BigInt(only.quantity) })
            }
          }
          if (rows.length < PAGE) return out
        }
      })

    const submit = (cborHex: string): Effect.Effect<string, ChainSubmitRejected | ChainProviderUnavailable> =>
      send(
        "submit",
        HttpClientRequest.post(`${base}/tx/submit`).pipe(
          HttpClientRequest.bodyUint8Array(fromHex(cborHex), "application/cbor")
        )
      ).pipe(
        Effect.flatMap(
          (r): Effect.Effect<string, ChainSubmitRejected | ChainProviderUnavailable> =>
            r.status === 400
              ? Effect.fail(
                  new ChainSubmitRejected({ provider: "blockfrost", code: "400", message: errorMessage(r.text) })
                )
              : ok("submit", Schema.String, r)
        )
      )

    const status = (txId: string) =>
      Effect.gen(function* () {
        const r = yield* send("status", HttpClientRequest.get(`${base}/txs/${txId}`))
        if (r.status === 404) return { state: "pending" } satisfies ChainTxStatus
        const tx = yield* ok("status", TxContent, r)
        const tip = yield* send("status", HttpClientRequest.get(`${base}/blocks/latest`)).pipe(
          Effect.flatMap((b) => ok("status", LatestBlock, b)),
          Effect.option
        )
        return {
          state: "confirmed",
          block: tx.block_height,
          ...(Option.isSome(tip) ? { confirmations: tip.value.height - tx.block_height + 1 } : {})
        } satisfies ChainTxStatus
      })

    const provider: ChainProviderService = { name: "blockfrost", protocolParameters, utxos, submit, status }
    return provider
  })

export const BlockfrostLayer = Layer.effect(
  ChainProvider,
  Effect.gen(function* () {
    const c = yield* ChainConfig
    if (Option.isNone(c.blockfrostProjectId)) {
      return yield* new ChainConfigError({
        setting: "BLOCKFROST_PROJECT_ID",
        message: "required with CHAIN_PROVIDER=blockfrost"
      })
    }
    return yield* makeBlockfrost({
      baseUrl: Option.getOrElse(c.blockfrostUrl, () => blockfrostBaseUrl(c.network)),
      projectId: c.blockfrostProjectId.value
    })
  })
)
