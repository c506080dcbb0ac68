import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer, Schema } from "effect"
import { ChainConfig } from "./ChainConfig.js"
import { ChainProvider, type ChainProviderService, type ChainTxStatus } from "./ChainProvider.js"
import { ChainProviderUnavailable, ChainSubmitRejected, describe } from "./Errors.js"
import { blake2b256, fromHex } from "./Hash.js"
import { validateTransaction } from "./LedgerRules.js"
import { decodeTransaction, MAINNET_LIKE_PARAMETERS, type ProtocolParameters, type Utxo } from "./Transaction.js"
import { AnchorWallet, cryptoReady } from "./Wallet.js"

/** 1 000 000 ADA: enough for decades of hourly anchors at ~0.18 ADA each. */
export const GENESIS_LOVELACE = 1_000_000_000_000n

/** The genesis output of a wallet on the local ledger: a fixed, recognisable id per address. */
export const genesisTxId = (address: string): string =>
  blake2b256(new TextEncoder().encode(`brandme-genesis:${address}`))

const UtxoRow = Schema.Struct({
  tx_id: Schema.String,
  output_index: Schema.Number,
  address: Schema.String,
  lovelace: Schema.BigInt
})
const StatusRow = Schema.Struct({
  status: Schema.Literal("submitted", "confirmed", "failed"),
  block_height: Schema.NullOr(Schema.NumberFromString),
  tip: Schema.NullOr(Schema.NumberFromString)
})

const toUtxo = (r: typeof UtxoRow.Type): Utxo => ({
  txId: r.tx_id,
  index: r.output_index,
  address: r.address,
  lovelace: r.lovelace
})

export interface LocalLedgerOptions {
  readonly confirmMs: number
  readonly genesisAddress: string
  readonly params?: ProtocolParameters
}

/**
 * The embedded chain: a ledger kept in Postgres (chain_ledger_*) that checks every submitted transaction
 * with the same rules a node applies (LedgerRules) and confirms it `confirmMs` after it arrived.
 * Accepted transactions spend their inputs at once, as a node's mempool does, so a conflicting
 * transaction is refused even before the first is confirmed.
 */
export const makeLocalLedger = (o: LocalLedgerOptions) =>
  Effect.gen(function* () {
    yield* cryptoReady
    const sql = yield* SqlClient.SqlClient
    const params = o.params ?? MAINNET_LIKE_PARAMETERS
    const unavailable = (operation: string) => (e: unknown) =>
      new ChainProviderUnavailable({ provider: "local", operation, message: describe(e) })

    // seeded on use, not at layer construction (the service may start before migrations run); not cached,
    // because a first use inside a transaction that rolls back would otherwise never seed again
    const seedGenesis = sql`INSERT INTO chain_ledger_utxos (tx_id, output_index, address, lovelace)
        VALUES (${genesisTxId(o.genesisAddress)}, 0, ${o.genesisAddress}, ${GENESIS_LOVELACE.toString()})
        ON CONFLICT DO NOTHING`.pipe(Effect.asVoid)

    const confirmDue = sql`
      UPDATE chain_ledger_transactions
         SET status = 'confirmed', confirmed_at = now(), block_height = nextval('chain_ledger_block_height_seq')
       WHERE status = 'submitted' AND confirm_after <= now()`.pipe(Effect.asVoid)

    const utxos = (address: string) =>
      Effect.gen(function* () {
        yield* seedGenesis
        const rows = yield* sql`
          SELECT tx_id, output_index, address, lovelace::text AS lovelace
            FROM chain_ledger_utxos WHERE address = ${address} AND spent_by IS NULL
           ORDER BY created_at, tx_id, output_index`
        return (yield* Schema.decodeUnknown(Schema.Array(UtxoRow))(rows)).map(toUtxo)
      }).pipe(Effect.mapError(unavailable("utxos")))

    const submit = (cborHex: string) =>
      Effect.gen(function* () {
        const decoded = decodeTransaction(cborHex)
        if (Either.isLeft(decoded)) {
          return yield* new ChainSubmitRejected({ provider: "local", code: "Malformed", message: decoded.left })
        }
        const id = decoded.right.txId
        const known = yield* sql`SELECT 1 FROM chain_ledger_transactions WHERE tx_id = ${id}`
        // the same bytes again: already in the ledger, as a node answers for a tx it has seen
        if (known.length > 0) return id
        const keys = decoded.right.inputs.map((i) => `${i.txId}#${i.index}`)
        const rows =
          keys.length === 0
            ? []
            : yield* sql`
          SELECT tx_id, output_index, address, lovelace::text AS lovelace
            FROM chain_ledger_utxos
           WHERE spent_by IS NULL AND (tx_id || '#' || output_index) IN ${sql.in(keys)}
             FOR UPDATE`
        const inputs = new Map(
          (yield* Schema.decodeUnknown(Schema.Array(UtxoRow))(rows)).map((r) => [
            `${r.tx_id}#${r.output_index}`,
            toUtxo(r)
          ])
        )
        const accepted = validateTransaction(cborHex, params, (r) => inputs.get(`${r.txId}#${r.index}`))
        if (Either.isLeft(accepted)) {
          return yield* new ChainSubmitRejected({
            provider: "local",
            code: accepted.left.code,
            message: accepted.left.message
          })
        }
        const tx = accepted.right
        yield* sql`
          INSERT INTO chain_ledger_transactions (tx_id, cbor, size, fee, status, confirm_after)
          VALUES (${id}, ${fromHex(cborHex)}, ${tx.tx.size}, ${tx.tx.fee.toString()}, 'submitted',
                  now() + ${o.confirmMs} * interval '1 millisecond')`
        for (const r of tx.spent) {
          yield* sql`UPDATE chain_ledger_utxos SET spent_by = ${id} WHERE tx_id = ${r.txId} AND output_index = ${r.index}`
        }
        for (const u of tx.created) {
          yield* sql`INSERT INTO chain_ledger_utxos (tx_id, output_index, address, lovelace)
                     VALUES (${u.txId}, ${u.index}, ${u.address}, ${u.lovelace.toString()})`
        }
        return id
      }).pipe(
        sql.withTransaction,
        Effect.catchTags({
          SqlError: (e) => Effect.fail(unavailable("submit")(e)),
          ParseError: (e) => Effect.fail(unavailable("submit")(e))
        })
      )

    const status = (txId: string) =>
      Effect.gen(function* () {
        yield* confirmDue
        const rows = yield* sql`
          SELECT status, block_height::text AS block_height,
                 (SELECT max(block_height) FROM chain_ledger_transactions)::text AS tip
            FROM chain_ledger_transactions WHERE tx_id = ${txId}`
        const [row] = yield* Schema.decodeUnknown(Schema.Array(StatusRow))(rows)
        if (row === undefined) return { state: "pending" } satisfies ChainTxStatus
        if (row.status !== "confirmed" || row.block_height === null)
          return { state: row.status } satisfies ChainTxStatus
        const tip = row.tip ?? row.block_height
        return {
          state: "confirmed",
          block: row.block_height,
          confirmations: tip - row.block_height + 1
        } satisfies ChainTxStatus
      }).pipe(Effect.mapError(unavailable("status")))

    const provider: ChainProviderService = {
      name: "local",
      protocolParameters: Effect.succeed(params),
      utxos,
      submit,
      status
    }
    return provider
  })

export const LocalLedgerLayer = Layer.effect(
  ChainProvider,
  Effect.gen(function* () {
    const config = yield* ChainConfig
    const wallet = yield* AnchorWallet
    return yield* makeLocalLedger({ confirmMs: config.localConfirmMs, genesisAddress: wallet.address })
  })
)
