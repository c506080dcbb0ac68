import { Effect, Either, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { DEV_CHAIN_SIGNING_KEY } from "../../shared/config/AppConfig.js"
import { backoffMs } from "./Anchoring.js"
import { asChainService } from "./ChainAdapter.js"
import { ChainProvider, MemoryLedger, memoryLedgerLayer } from "./ChainProvider.js"
import { ChainProviderUnavailable } from "./Errors.js"
import { fromHex } from "./Hash.js"
import { buildAnchorTx } from "./Transaction.js"
import { makeWallet } from "./Wallet.js"

const payload = { origin: "brandme.test/memory", treeSize: 1, rootHex: "0f".repeat(32) }

const withLedger = <A, E>(f: (address: string) => Effect.Effect<A, E, ChainProvider | MemoryLedger>) =>
  Effect.gen(function* () {
    const wallet = yield* makeWallet(Redacted.make(DEV_CHAIN_SIGNING_KEY), "preprod")
    const layer = memoryLedgerLayer([
      { txId: "01".repeat(32), index: 0, address: wallet.address, lovelace: 10_000_000n }
    ])
    return yield* Effect.provide(f(wallet.address), layer)
  })

describe("in-memory chain (test layer)", () => {
  it("accepts a valid anchor, reports submitted, then confirmed with a block once confirmed", async () => {
    const a = await Effect.runPromise(
      withLedger((address) =>
        Effect.gen(function* () {
          const chain = yield* ChainProvider
          const control = yield* MemoryLedger
          const wallet = yield* makeWallet(Redacted.make(DEV_CHAIN_SIGNING_KEY), "preprod")
          const tx = yield* buildAnchorTx(payload, {
            utxos: yield* chain.utxos(address),
            params: yield* chain.protocolParameters,
            wallet
          })
          const id = yield* chain.submit(tx.cborHex)
          const before = yield* chain.status(id)
          yield* control.confirmAll
          const after = yield* chain.status(id)
          const left = yield* chain.utxos(address)
          // resubmitting the same bytes is not a double spend
          const again = yield* chain.submit(tx.cborHex)
          return { tx, id, before, after, left, again }
        })
      )
    )
    expect(a.id).toBe(a.tx.txId)
    expect(a.again).toBe(a.tx.txId)
    expect(a.before).toEqual({ state: "submitted" })
    expect(a.after).toEqual({ state: "confirmed", block: 1, confirmations: 1 })
    expect(a.left.map((u) => [u.txId, u.lovelace])).toEqual([[a.tx.txId, a.tx.change]])
  })

  it("injects provider failures for the tests of retry logic", async () => {
    const a = await Effect.runPromise(
      withLedger(() =>
        Effect.gen(function* () {
          const control = yield* MemoryLedger
          yield* control.failNextSubmits(
            1,
            new ChainProviderUnavailable({ provider: "memory", operation: "submit", message: "down" })
          )
          const chain = yield* ChainProvider
          return yield* Effect.either(chain.submit("00"))
        })
      )
    )
    expect(Either.isLeft(a) && a.left._tag).toBe("ChainProviderUnavailable")
  })

  it("serves the shared Chain interface: ids for bytes, statuses, retryable flags", async () => {
    const a = await Effect.runPromise(
      withLedger((address) =>
        Effect.gen(function* () {
          const provider = yield* ChainProvider
          const chain = asChainService(provider)
          const wallet = yield* makeWallet(Redacted.make(DEV_CHAIN_SIGNING_KEY), "preprod")
          const tx = yield* buildAnchorTx(payload, {
            utxos: yield* provider.utxos(address),
            params: yield* provider.protocolParameters,
            wallet
          })
          const id = yield* chain.submit(fromHex(tx.cborHex))
          const status = yield* chain.status(id)
          const bad = yield* Effect.either(chain.submit(new Uint8Array([1, 2, 3])))
          return { tx, id, status, bad }
        })
      )
    )
    expect(a.id).toBe(a.tx.txId)
    expect(a.status).toEqual({ status: "submitted", confirmations: 0 })
    expect(Either.isLeft(a.bad) && a.bad.left.retryable).toBe(false)
  })

  it("backs off exponentially with a cap", () => {
    const p = { baseDelayMs: 1000, maxDelayMs: 5000 }
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, p))).toEqual([1000, 2000, 4000, 5000, 5000])
  })
})
