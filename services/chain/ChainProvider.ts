import { Context, Effect, Either, Layer, Ref } from "effect"
import { type ChainProviderUnavailable, ChainSubmitRejected } from "./Errors.js"
import { type OutputRef, validateTransaction } from "./LedgerRules.js"
import { decodeTransaction, MAINNET_LIKE_PARAMETERS, type ProtocolParameters, type Utxo } from "./Transaction.js"
import { cryptoReady } from "./Wallet.js"

/**
 * Where a transaction stands on the provider's chain:
 * pending — not known to the chain (yet); submitted — accepted into the mempool;
 * confirmed — in a block; failed — the chain dropped or refused it.
 */
export type ChainTxState = "pending" | "submitted" | "confirmed" | "failed"

export interface ChainTxStatus {
  readonly state: ChainTxState
  readonly block?: number
  readonly confirmations?: number
  readonly reason?: string
}

/**
 * One interface for every way of reaching Cardano (the embedded local ledger, Blockfrost, Ogmios) — and the
 * seam where a Midnight provider would plug in (see MIDNIGHT.md).
 */
export interface ChainProviderService {
  readonly name: string
  readonly protocolParameters: Effect.Effect<ProtocolParameters, ChainProviderUnavailable>
  /** ADA-only unspent outputs at `address` */
  readonly utxos: (address: string) => Effect.Effect<ReadonlyArray<Utxo>, ChainProviderUnavailable>
  /** submits the exact bytes; answers the tx id the provider computed */
  readonly submit: (cborHex: string) => Effect.Effect<string, ChainSubmitRejected | ChainProviderUnavailable>
  readonly status: (txId: string) => Effect.Effect<ChainTxStatus, ChainProviderUnavailable>
}

export class ChainProvider extends Context.Tag("brandme/chain/ChainProvider")<ChainProvider, ChainProviderService>() {}

/** Controls of the in-memory ledger used by unit tests. */
export interface MemoryLedgerControl {
  readonly confirmAll: Effect.Effect<number>
  /** the next `count` submissions fail with `error` before reaching the ledger */
  readonly failNextSubmits: (
    count: number,
    error: ChainSubmitRejected | ChainProviderUnavailable
  ) => Effect.Effect<void>
  readonly submitted: Effect.Effect<ReadonlyArray<string>>
}

export class MemoryLedger extends Context.Tag("brandme/chain/MemoryLedger")<MemoryLedger, MemoryLedgerControl>() {}

interface MemoryState {
  readonly utxos: ReadonlyMap<string, Utxo>
  readonly txs: ReadonlyMap<string, { readonly cborHex: string; readonly block: number | undefined }>
  readonly height: number
  readonly failures: ReadonlyArray<ChainSubmitRejected | ChainProviderUnavailable>
}

const refKey = (r: OutputRef) => `${r.txId}#${r.index}`

/**
 * An in-memory chain with the local ledger's rules (same validation code): `funded` seeds the genesis
 * outputs; confirmation is explicit (`confirmAll`) so tests decide when blocks happen.
 */
export const memoryLedgerLayer = (funded: ReadonlyArray<Utxo>, params: ProtocolParameters = MAINNET_LIKE_PARAMETERS) =>
  Layer.effectContext(
    Effect.gen(function* () {
      yield* cryptoReady
      const state = yield* Ref.make<MemoryState>({
        utxos: new Map(funded.map((u) => [refKey(u), u])),
        txs: new Map(),
        height: 0,
        failures: []
      })
      const submit = (cborHex: string) =>
        Effect.gen(function* () {
          const s = yield* Ref.get(state)
          const [injected, ...rest] = s.failures
          if (injected !== undefined) {
            yield* Ref.set(state, { ...s, failures: rest })
            return yield* Effect.fail(injected)
          }
          const accepted = validateTransaction(cborHex, params, (r) => s.utxos.get(refKey(r)))
          if (Either.isLeft(accepted)) {
            // the same bytes again are not a double spend: answer the id, as a node does for a known tx
            const again = Either.getOrUndefined(decodeTransaction(cborHex))
            if (again !== undefined && s.txs.has(again.txId)) return again.txId
            return yield* new ChainSubmitRejected({
              provider: "memory",
              code: accepted.left.code,
              message: accepted.left.message
            })
          }
          const tx = accepted.right
          const utxos = new Map(s.utxos)
          for (const r of tx.spent) utxos.delete(refKey(r))
          for (const u of tx.created) utxos.set(refKey(u), u)
          const txs = new Map(s.txs)
          txs.set(tx.tx.txId, { cborHex, block: undefined })
          yield* Ref.set(state, { ...s, utxos, txs })
          return tx.tx.txId
        })
      const provider: ChainProviderService = {
        name: "memory",
        protocolParameters: Effect.succeed(params),
        utxos: (address) =>
          Effect.map(Ref.get(state), (s) => [...s.utxos.values()].filter((u) => u.address === address)),
        submit,
        status: (txId) =>
          Effect.map(Ref.get(state), (s): ChainTxStatus => {
            const tx = s.txs.get(txId)
            if (tx === undefined) return { state: "pending" }
            if (tx.block === undefined) return { state: "submitted" }
            return { state: "confirmed", block: tx.block, confirmations: s.height - tx.block + 1 }
          })
      }
      const control: MemoryLedgerControl = {
        confirmAll: Ref.modify(state, (s) => {
          const pending = [...s.txs.entries()].filter(([, t]) => t.block === undefined)
          if (pending.length === 0) return [0, s]
          const height = s.height + 1
          const txs = new Map(s.txs)
          for (const [id, t] of pending) txs.set(id, { ...t, block: height })
          return [pending.length, { ...s, txs, height }]
        }),
        failNextSubmits: (count, error) =>
          Ref.update(state, (s) => ({
            ...s,
            failures: [...s.failures, ...Array.from({ length: count }, () => error)]
          })),
        submitted: Effect.map(Ref.get(state), (s) => [...s.txs.keys()])
      }
      return Context.make(ChainProvider, provider).pipe(Context.add(MemoryLedger, control))
    })
  )
