import { Context, Effect, Either, Option } from "effect"
import type { DependencyError } from "../../shared/layers/Errors.js"
import { type AnchorRecord, type AnchorStatus, makeAnchorRepo } from "./AnchorRepo.js"
import { ChainProvider } from "./ChainProvider.js"
import { AnchorConflict, type ChainProviderUnavailable, TxBuildError } from "./Errors.js"
import { type AnchorPayload, validatePayload } from "./Metadata.js"
import { buildAnchorTx, decodeTransaction, type Utxo } from "./Transaction.js"
import { AnchorWallet } from "./Wallet.js"

/** Called on every lifecycle change; the lead wires brandme_blockchain_transactions_total{provider,status} here. */
export class AnchorStatusHook extends Context.Reference<AnchorStatusHook>()("brandme/chain/AnchorStatusHook", {
  defaultValue: () => ({ onStatus: (_provider: string, _status: AnchorStatus): Effect.Effect<void> => Effect.void })
}) {}

/** Backoff for retryable submission failures: base·2^(attempt-1), capped; failed after maxAttempts. */
export class AnchoringPolicy extends Context.Reference<AnchoringPolicy>()("brandme/chain/AnchoringPolicy", {
  defaultValue: () => ({
    baseDelayMs: 5_000,
    maxDelayMs: 15 * 60_000,
    maxAttempts: 12,
    /** a submitted tx the chain still does not know after this long is sent again (same bytes, same id) */
    resubmitAfterMs: 10 * 60_000,
    batch: 100
  })
}) {}

export const backoffMs = (attempt: number, p: { readonly baseDelayMs: number; readonly maxDelayMs: number }): number =>
  Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, attempt - 1))

export interface AnchorTransition {
  readonly id: string
  readonly treeSize: number
  readonly txId: string
  readonly from: AnchorStatus | "new"
  readonly to: AnchorStatus
}

export interface SyncReport {
  readonly checked: number
  readonly transitions: ReadonlyArray<AnchorTransition>
  readonly errors: number
}

export type AnchorError = AnchorConflict | TxBuildError | ChainProviderUnavailable | DependencyError

/**
 * The lifecycle of checkpoint anchors: pending → submitted → confirmed | failed. One transaction per
 * checkpoint (unique origin + tree size): asking again answers the existing anchor, whatever its state.
 */
export class Anchoring extends Effect.Service<Anchoring>()("brandme/chain/Anchoring", {
  effect: Effect.gen(function* () {
    const repo = yield* makeAnchorRepo
    const provider = yield* ChainProvider
    const wallet = yield* AnchorWallet
    const hook = yield* AnchorStatusHook
    const policy = yield* AnchoringPolicy

    /** Records a status change: the hook fires only when the status really changed. */
    const transition = (from: AnchorStatus, after: AnchorRecord) =>
      Effect.as(from === after.status ? Effect.void : hook.onStatus(after.provider, after.status), {
        record: after,
        transition: {
          id: after.id,
          treeSize: after.treeSize,
          txId: after.txId,
          from,
          to: after.status
        } satisfies AnchorTransition
      })

    /** Provider UTXOs, less outputs our unconfirmed anchors spend, plus the change they create. */
    const spendable = (fromChain: ReadonlyArray<Utxo>, inflight: ReadonlyArray<AnchorRecord>) => {
      const reserved = new Set<string>()
      const chained = new Map<string, Utxo>()
      for (const row of inflight) {
        const tx = Either.getOrUndefined(decodeTransaction(row.cborHex))
        if (tx === undefined) continue
        for (const i of tx.inputs) reserved.add(`${i.txId}#${i.index}`)
        tx.outputs.forEach((o, index) => {
          if (o.address === wallet.address) chained.set(`${tx.txId}#${index}`, { ...o, txId: tx.txId, index })
        })
      }
      const all = new Map<string, Utxo>(chained)
      for (const u of fromChain) all.set(`${u.txId}#${u.index}`, u)
      return [...all.entries()].filter(([k]) => !reserved.has(k)).map(([, u]) => u)
    }

    const build = (p: AnchorPayload) =>
      Effect.gen(function* () {
        const [params, fromChain, inflight] = yield* Effect.all(
          [provider.protocolParameters, provider.utxos(wallet.address), repo.listInflight],
          { concurrency: 2 }
        )
        const tx = yield* buildAnchorTx(p, { utxos: spendable(fromChain, inflight), params, wallet })
        return { ...p, provider: provider.name, txId: tx.txId, cborHex: tx.cborHex, fee: tx.fee }
      })

    /** Sends a row's exact bytes once and records the outcome. */
    const submitRow = (row: AnchorRecord) =>
      Effect.gen(function* () {
        const attempts = row.attempts + 1
        const result = yield* Effect.either(provider.submit(row.cborHex))
        if (Either.isRight(result)) return yield* repo.markSubmitted(row.id, attempts)
        const error = result.left
        if (error._tag === "ChainSubmitRejected") {
          // a resubmission of a transaction the chain already has is refused as spending spent inputs
          const known = yield* Effect.either(provider.status(row.txId))
          if (Either.isRight(known) && (known.right.state === "submitted" || known.right.state === "confirmed")) {
            return yield* repo.markSubmitted(row.id, attempts)
          }
          return yield* repo.markFailed(row.id, attempts, `${error.code}: ${error.message}`)
        }
        if (attempts >= policy.maxAttempts) {
          return yield* repo.markFailed(row.id, attempts, `gave up after ${attempts} attempts: ${error.message}`)
        }
        return yield* repo.markRetry(row.id, attempts, error.message, backoffMs(attempts, policy))
      }).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.succeed(Option.none()),
            onSome: (after) => Effect.map(transition(row.status, after), Option.some)
          })
        )
      )

    const anchorCheckpoint = (checkpoint: AnchorPayload): Effect.Effect<AnchorRecord, AnchorError> =>
      Effect.gen(function* () {
        const p = yield* Either.mapLeft(
          validatePayload(checkpoint),
          (message) => new TxBuildError({ reason: "InvalidPayload", message })
        )
        const conflictOr = (row: AnchorRecord) =>
          row.rootHex === p.rootHex
            ? Effect.succeed(row)
            : Effect.fail(
                new AnchorConflict({
                  origin: p.origin,
                  treeSize: p.treeSize,
                  anchoredRoot: row.rootHex,
                  requestedRoot: p.rootHex
                })
              )
        const existing = yield* repo.findByCheckpoint(p.origin, p.treeSize)
        if (Option.isSome(existing) && existing.value.status !== "failed") return yield* conflictOr(existing.value)

        const created = yield* repo.transaction(
          Effect.gen(function* () {
            yield* repo.lockWallet
            const current = yield* repo.findByCheckpoint(p.origin, p.treeSize)
            if (Option.isSome(current) && current.value.status !== "failed") {
              return { row: yield* conflictOr(current.value), fresh: false }
            }
            if (Option.isSome(current)) yield* conflictOr(current.value)
            const anchor = yield* build(p)
            const row = Option.isSome(current)
              ? yield* repo.replaceFailed(current.value.id, anchor)
              : yield* repo.insertPending(anchor)
            if (Option.isSome(row)) return { row: row.value, fresh: true }
            // the lock makes this unreachable; answer what is there rather than build a second tx
            const again = yield* repo.findByCheckpoint(p.origin, p.treeSize)
            return Option.isSome(again)
              ? { row: yield* conflictOr(again.value), fresh: false }
              : yield* new TxBuildError({ reason: "Serialization", message: "the anchor row vanished while building" })
          })
        )
        if (!created.fresh) return created.row
        const submitted = yield* submitRow(created.row)
        return Option.isSome(submitted) ? submitted.value.record : created.row
      }).pipe(Effect.withSpan("Anchoring.anchorCheckpoint", { attributes: { treeSize: checkpoint.treeSize } }))

    /** The blockchain-queue job: sends pending anchors whose backoff has elapsed, oldest first. */
    const retryDue = Effect.gen(function* () {
      const due = yield* repo.listDue(policy.batch)
      const transitions: Array<AnchorTransition> = []
      for (const row of due) {
        const t = yield* submitRow(row)
        if (Option.isSome(t)) transitions.push(t.value.transition)
      }
      return transitions
    }).pipe(Effect.withSpan("Anchoring.retryDue"))

    /** The chain-sync job: asks the provider about every submitted anchor and records confirmations. */
    const syncConfirmations: Effect.Effect<SyncReport, DependencyError> = Effect.gen(function* () {
      const rows = yield* repo.listByStatus("submitted", policy.batch)
      const transitions: Array<AnchorTransition> = []
      let errors = 0
      for (const row of rows) {
        const status = yield* Effect.either(provider.status(row.txId))
        if (Either.isLeft(status)) {
          errors++
          continue
        }
        const s = status.right
        const after =
          s.state === "confirmed"
            ? yield* repo.markConfirmed(row.id, s.block ?? null, s.confirmations ?? null)
            : s.state === "failed"
              ? yield* repo.markFailed(row.id, row.attempts, s.reason ?? "the chain dropped the transaction")
              : s.state === "pending" &&
                  row.submittedAt !== null &&
                  Date.now() - row.submittedAt.getTime() > policy.resubmitAfterMs
                ? yield* Effect.as(Effect.ignore(provider.submit(row.cborHex)), Option.none<AnchorRecord>())
                : Option.none<AnchorRecord>()
        if (Option.isSome(after)) transitions.push((yield* transition(row.status, after.value)).transition)
      }
      return { checked: rows.length, transitions, errors }
    }).pipe(Effect.withSpan("Anchoring.syncConfirmations"))

    return {
      anchorCheckpoint,
      retryDue,
      syncConfirmations,
      get: (id: string) => repo.findById(id).pipe(Effect.withSpan("Anchoring.get")),
      list: (status: AnchorStatus | undefined, limit: number) =>
        repo.listRecent(status, limit).pipe(Effect.withSpan("Anchoring.list")),
      findByCheckpoint: (origin: string, treeSize: number) =>
        repo.findByCheckpoint(origin, treeSize).pipe(Effect.withSpan("Anchoring.findByCheckpoint"))
    }
  })
}) {}
