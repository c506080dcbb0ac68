import { SqlClient, SqlSchema } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Option, Schema } from "effect"
import { DependencyError, describeCause } from "../../shared/layers/Errors.js"
import { fromHex, toHex } from "./Hash.js"

export const AnchorStatus = Schema.Literal("pending", "submitted", "confirmed", "failed")
export type AnchorStatus = typeof AnchorStatus.Type

/** One checkpoint's anchor transaction and where it stands. */
export interface AnchorRecord {
  readonly id: string
  readonly origin: string
  readonly treeSize: number
  readonly rootHex: string
  readonly provider: string
  readonly txId: string
  readonly cborHex: string
  readonly fee: bigint
  readonly status: AnchorStatus
  readonly attempts: number
  readonly lastError: string | null
  readonly nextAttemptAt: Date
  readonly submittedAt: Date | null
  readonly confirmedAt: Date | null
  readonly blockHeight: number | null
  readonly confirmations: number | null
  readonly createdAt: Date
}

const Row = Schema.Struct({
  id: Schema.String,
  origin: Schema.String,
  tree_size: Schema.NumberFromString,
  root: Schema.String,
  provider: Schema.String,
  tx_id: Schema.String,
  cbor: Schema.Uint8ArrayFromSelf,
  fee: Schema.BigInt,
  status: AnchorStatus,
  attempts: Schema.Number,
  last_error: Schema.NullOr(Schema.String),
  next_attempt_at: Schema.DateFromSelf,
  submitted_at: Schema.NullOr(Schema.DateFromSelf),
  confirmed_at: Schema.NullOr(Schema.DateFromSelf),
  block_height: Schema.NullOr(Schema.NumberFromString),
  confirmations: Schema.NullOr(Schema.Number),
  created_at: Schema.DateFromSelf
})

const toRecord = (r: typeof Row.Type): AnchorRecord => ({
  id: r.id,
  origin: r.origin,
  treeSize: r.tree_size,
  rootHex: r.root,
  provider: r.provider,
  txId: r.tx_id,
  cborHex: toHex(r.cbor),
  fee: r.fee,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  nextAttemptAt: r.next_attempt_at,
  submittedAt: r.submitted_at,
  confirmedAt: r.confirmed_at,
  blockHeight: r.block_height,
  confirmations: r.confirmations,
  createdAt: r.created_at
})

// BIGINT columns come back as strings (documented pitfall); cast explicitly so the row schema is exact
const COLUMNS = `id::text, origin, tree_size::text, root, provider, tx_id, cbor, fee::text, status, attempts,
  last_error, next_attempt_at, submitted_at, confirmed_at, block_height::text, confirmations, created_at`

export interface NewAnchor {
  readonly origin: string
  readonly treeSize: number
  readonly rootHex: string
  readonly provider: string
  readonly txId: string
  readonly cborHex: string
  readonly fee: bigint
}

/** chain_transactions, owned by the chain service. SQL failures become one DependencyError here. */
export const makeAnchorRepo = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const cols = sql.literal(COLUMNS)
  const wrap =
    (operation: string) =>
    <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.mapError(
        self,
        (e) =>
          new DependencyError({
            dependency: "database",
            operation: `AnchorRepo.${operation}`,
            message: describeCause(e)
          })
      )
  const one = (operation: string, run: (req: string) => Effect.Effect<ReadonlyArray<unknown>, unknown>) => {
    const find = SqlSchema.findOne({ Request: Schema.String, Result: Row, execute: run })
    return (req: string) => find(req).pipe(Effect.map(Option.map(toRecord)), wrap(operation))
  }
  const many = (operation: string, run: (req: string) => Effect.Effect<ReadonlyArray<unknown>, unknown>) => {
    const find = SqlSchema.findAll({ Request: Schema.String, Result: Row, execute: run })
    return (req: string) =>
      find(req).pipe(
        Effect.map((rows) => rows.map(toRecord)),
        wrap(operation)
      )
  }

  const findByCheckpoint = (origin: string, treeSize: number) =>
    one(
      "findByCheckpoint",
      () => sql`SELECT ${cols} FROM chain_transactions WHERE origin = ${origin} AND tree_size = ${treeSize}`
    )("")

  const findById = one("findById", (id) => sql`SELECT ${cols} FROM chain_transactions WHERE id = ${id}`)

  /** Inserts unless the checkpoint already has a row (a concurrent caller won): then answers none. */
  const insertPending = (a: NewAnchor) =>
    one(
      "insertPending",
      () => sql`
        INSERT INTO chain_transactions (origin, tree_size, root, provider, tx_id, cbor, fee, status)
        VALUES (${a.origin}, ${a.treeSize}, ${a.rootHex}, ${a.provider}, ${a.txId}, ${fromHex(a.cborHex)},
                ${a.fee.toString()}, 'pending')
        ON CONFLICT ON CONSTRAINT chain_transactions_checkpoint_key DO NOTHING
        RETURNING ${cols}`
    )("")

  /** A failed anchor gets a fresh transaction (new inputs) under the same row: still one per checkpoint. */
  const replaceFailed = (id: string, a: NewAnchor) =>
    one(
      "replaceFailed",
      () => sql`
        UPDATE chain_transactions
           SET provider = ${a.provider}, tx_id = ${a.txId}, cbor = ${fromHex(a.cborHex)}, fee = ${a.fee.toString()},
               status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = now(),
               submitted_at = NULL, confirmed_at = NULL, block_height = NULL, confirmations = NULL, updated_at = now()
         WHERE id = ${id} AND status = 'failed'
        RETURNING ${cols}`
    )("")

  const update = (operation: string, id: string, set: ReturnType<typeof sql.literal> | ReturnType<typeof sql>) =>
    one(
      operation,
      () => sql`UPDATE chain_transactions SET ${set}, updated_at = now() WHERE id = ${id} RETURNING ${cols}`
    )("")

  const markSubmitted = (id: string, attempts: number) =>
    update(
      "markSubmitted",
      id,
      sql`status = 'submitted', attempts = ${attempts}, last_error = NULL, submitted_at = coalesce(submitted_at, now())`
    )

  const markRetry = (id: string, attempts: number, error: string, delayMs: number) =>
    update(
      "markRetry",
      id,
      sql`status = 'pending', attempts = ${attempts}, last_error = ${error},
          next_attempt_at = now() + ${delayMs} * interval '1 millisecond'`
    )

  const markFailed = (id: string, attempts: number, error: string) =>
    update("markFailed", id, sql`status = 'failed', attempts = ${attempts}, last_error = ${error}`)

  const markConfirmed = (id: string, block: number | null, confirmations: number | null) =>
    update(
      "markConfirmed",
      id,
      sql`status = 'confirmed', confirmed_at = now(), block_height = ${block}, confirmations = ${confirmations}`
    )

  const listDue = (limit: number) =>
    many(
      "listDue",
      () => sql`SELECT ${cols} FROM chain_transactions WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY created_at LIMIT ${limit}`
    )("")

  const listByStatus = (status: AnchorStatus, limit: number) =>
    many(
      "listByStatus",
      () => sql`SELECT ${cols} FROM chain_transactions WHERE status = ${status} ORDER BY created_at LIMIT ${limit}`
    )("")

  /** Newest first, optionally of one status: what auditors browse. */
  const listRecent = (status: AnchorStatus | undefined, limit: number) =>
    many("listRecent", () =>
      status === undefined
        ? sql`SELECT ${cols} FROM chain_transactions ORDER BY tree_size DESC LIMIT ${limit}`
        : sql`SELECT ${cols} FROM chain_transactions WHERE status = ${status} ORDER BY tree_size DESC LIMIT ${limit}`
    )("")

  /** Transactions that hold wallet outputs: their inputs are reserved, their change may be spent next. */
  const listInflight = many(
    "listInflight",
    () => sql`SELECT ${cols} FROM chain_transactions WHERE status IN ('pending', 'submitted') ORDER BY created_at`
  )("")

  /** Serialises building across replicas so two anchors never pick the same wallet output. */
  const lockWallet = sql`SELECT pg_advisory_xact_lock(hashtext('brandme.chain.anchor-wallet'))`.pipe(
    Effect.asVoid,
    wrap("lockWallet")
  )

  return {
    findByCheckpoint,
    findById,
    insertPending,
    replaceFailed,
    markSubmitted,
    markRetry,
    markFailed,
    markConfirmed,
    listDue,
    listByStatus,
    listRecent,
    listInflight,
    lockWallet,
    /** runs `self` in one transaction; only a failure of the transaction itself becomes a DependencyError */
    transaction: <A, E, R>(self: Effect.Effect<A, E, R>) =>
      sql.withTransaction(self).pipe(
        Effect.catchIf(
          (e): e is SqlError => e instanceof SqlError,
          (e) =>
            Effect.fail(
              new DependencyError({ dependency: "database", operation: "AnchorRepo.transaction", message: e.message })
            )
        )
      )
  }
})

export type AnchorRepo = Effect.Effect.Success<typeof makeAnchorRepo>
