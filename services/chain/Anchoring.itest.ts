import { Effect, Either, Layer, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AnchorStatus } from "./AnchorRepo.js"
import { Anchoring, AnchoringPolicy, AnchorStatusHook } from "./Anchoring.js"
import { ChainConfig, devChainSettings } from "./ChainConfig.js"
import { ChainProvider } from "./ChainProvider.js"
import { ChainProviderUnavailable } from "./Errors.js"
import { makeLocalLedger } from "./LocalLedger.js"
import { createChainDatabase } from "./TestDatabase.js"
import { decodeAnchor } from "./Transaction.js"
import { AnchorWallet } from "./Wallet.js"

// generous margins: the machine is shared, and a slow step must not look like a confirmation
const CONFIRM_MS = 1500
const BASE_DELAY_MS = 800
const root = (n: number) => n.toString(16).padStart(2, "0").repeat(32)
let db: Awaited<ReturnType<typeof createChainDatabase>>
const seen: Array<[string, AnchorStatus]> = []

/** A runtime over the test database; `failSubmits` makes the first n submissions fail as retryable. */
const runtimeWith = (failSubmits = 0) => {
  let failures = failSubmits
  const config = ChainConfig.layerWith(devChainSettings({ localConfirmMs: CONFIRM_MS }))
  const wallet = AnchorWallet.layer.pipe(Layer.provide(config))
  const provider = Layer.effect(
    ChainProvider,
    Effect.gen(function* () {
      const w = yield* AnchorWallet
      const local = yield* makeLocalLedger({ confirmMs: CONFIRM_MS, genesisAddress: w.address })
      return {
        ...local,
        submit: (cbor: string) =>
          failures-- > 0
            ? Effect.fail(
                new ChainProviderUnavailable({ provider: "local", operation: "submit", status: 503, message: "down" })
              )
            : local.submit(cbor)
      }
    })
  )
  const policy = Layer.succeed(AnchoringPolicy, {
    baseDelayMs: BASE_DELAY_MS,
    maxDelayMs: 10_000,
    maxAttempts: 5,
    resubmitAfterMs: 60_000,
    batch: 100
  })
  const hook = Layer.succeed(AnchorStatusHook, {
    onStatus: (p: string, s: AnchorStatus) => Effect.sync(() => void seen.push([p, s]))
  })
  return ManagedRuntime.make(
    Anchoring.Default.pipe(
      Layer.provideMerge(provider),
      Layer.provideMerge(Layer.mergeAll(wallet, policy, hook)),
      Layer.provideMerge(db.layer)
    )
  )
}

beforeAll(async () => {
  db = await createChainDatabase()
})
afterAll(async () => {
  await db.drop()
})

describe("anchoring on the local ledger", () => {
  it("goes pending → submitted → confirmed after the confirmation delay", async () => {
    const rt = runtimeWith()
    const cp = { origin: "brandme.test/lifecycle", treeSize: 10, rootHex: root(1) }
    const row = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint(cp)))
    expect(row.status).toBe("submitted")
    expect(row.attempts).toBe(1)

    const ledger = await db.query(
      "SELECT status, encode(cbor, 'hex') AS cbor FROM chain_ledger_transactions WHERE tx_id = $1",
      [row.txId]
    )
    expect(ledger).toHaveLength(1)
    expect(ledger[0].status).toBe("submitted")
    // the ledger holds exactly the bytes we stored, and they carry our checkpoint
    expect(ledger[0].cbor).toBe(row.cborHex)
    expect(await Effect.runPromise(decodeAnchor(ledger[0].cbor))).toEqual({ txId: row.txId, ...cp })

    const early = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))
    expect(early.transitions).toEqual([])
    await new Promise((r) => setTimeout(r, CONFIRM_MS + 200))
    const later = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.syncConfirmations))
    expect(later.transitions).toEqual([
      { id: row.id, treeSize: 10, txId: row.txId, from: "submitted", to: "confirmed" }
    ])
    const [stored] = await db.query("SELECT status, block_height, confirmed_at FROM chain_transactions WHERE id = $1", [
      row.id
    ])
    expect(stored.status).toBe("confirmed")
    expect(Number(stored.block_height)).toBeGreaterThan(0)
    expect(seen).toContainEqual(["local", "submitted"])
    expect(seen).toContainEqual(["local", "confirmed"])
    await rt.dispose()
  })

  it("anchors a checkpoint once, however often and concurrently it is asked", async () => {
    const rt = runtimeWith()
    const cp = { origin: "brandme.test/idempotent", treeSize: 20, rootHex: root(2) }
    const anchor = Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint(cp))
    const rows = await rt.runPromise(Effect.all([anchor, anchor, anchor], { concurrency: 3 }))
    const again = await rt.runPromise(anchor)
    expect(new Set([...rows, again].map((r) => r.txId)).size).toBe(1)
    expect(await db.query("SELECT id FROM chain_transactions WHERE origin = $1", [cp.origin])).toHaveLength(1)
    expect(await db.query("SELECT tx_id FROM chain_ledger_transactions WHERE tx_id = $1", [again.txId])).toHaveLength(1)

    const conflict = await rt.runPromise(
      Effect.either(Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint({ ...cp, rootHex: root(3) })))
    )
    expect(Either.isLeft(conflict) && conflict.left._tag).toBe("AnchorConflict")
    await rt.dispose()
  })

  it("chains anchors: the next checkpoint spends the previous anchor's change", async () => {
    const rt = runtimeWith()
    const a = await rt.runPromise(
      Effect.flatMap(Anchoring, (s) =>
        s.anchorCheckpoint({ origin: "brandme.test/chain", treeSize: 1, rootHex: root(4) })
      )
    )
    const b = await rt.runPromise(
      Effect.flatMap(Anchoring, (s) =>
        s.anchorCheckpoint({ origin: "brandme.test/chain", treeSize: 2, rootHex: root(5) })
      )
    )
    expect(b.status).toBe("submitted")
    const spent = await db.query("SELECT tx_id, output_index FROM chain_ledger_utxos WHERE spent_by = $1", [b.txId])
    expect(spent).toEqual([{ tx_id: a.txId, output_index: 0 }])
    await rt.dispose()
  })

  it("retries a retryable failure with exponential backoff, then submits", async () => {
    const rt = runtimeWith(2)
    const cp = { origin: "brandme.test/retry", treeSize: 30, rootHex: root(6) }
    const first = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.anchorCheckpoint(cp)))
    expect(first.status).toBe("pending")
    expect(first.attempts).toBe(1)
    expect(first.lastError).toContain("down")
    const delayOf = async () =>
      (
        await db.query(
          "SELECT attempts, extract(epoch from next_attempt_at - updated_at) * 1000 AS delay FROM chain_transactions WHERE id = $1",
          [first.id]
        )
      )[0]
    const row1 = await delayOf()
    expect(Number(row1.delay)).toBeCloseTo(BASE_DELAY_MS, -1)

    // not due yet: nothing is sent
    expect(await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.retryDue))).toEqual([])
    await new Promise((r) => setTimeout(r, BASE_DELAY_MS + 100))
    const second = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.retryDue))
    expect(second).toEqual([{ id: first.id, treeSize: 30, txId: first.txId, from: "pending", to: "pending" }])
    const row2 = await delayOf()
    expect(row2.attempts).toBe(2)
    expect(Number(row2.delay)).toBeCloseTo(2 * BASE_DELAY_MS, -1)

    await new Promise((r) => setTimeout(r, 2 * BASE_DELAY_MS + 100))
    const third = await rt.runPromise(Effect.flatMap(Anchoring, (a) => a.retryDue))
    expect(third).toEqual([{ id: first.id, treeSize: 30, txId: first.txId, from: "pending", to: "submitted" }])
    // the same signed bytes throughout: one transaction for the checkpoint
    expect(await db.query("SELECT tx_id FROM chain_ledger_transactions WHERE tx_id = $1", [first.txId])).toHaveLength(1)
    await rt.dispose()
  })
})
