import { Context, type Effect, Schema } from "effect"

/**
 * The chain a checkpoint is anchored on. This is the interface; the chain service provides the
 * `local`, `blockfrost` and `ogmios` implementations (chosen by CHAIN_PROVIDER).
 */
export const ChainTxStatus = Schema.Literal("pending", "submitted", "confirmed", "failed")
export type ChainTxStatus = typeof ChainTxStatus.Type

export class ChainError extends Schema.TaggedError<ChainError>()("ChainError", {
  provider: Schema.String,
  operation: Schema.String,
  retryable: Schema.Boolean,
  message: Schema.String
}) {}

export interface ProtocolParameters {
  readonly minFeeA: number
  readonly minFeeB: number
  readonly maxTxSize: number
}

export interface ChainService {
  readonly provider: string
  readonly protocolParameters: Effect.Effect<ProtocolParameters, ChainError>
  /** submits the exact signed CBOR bytes; returns the transaction id (hash of the body bytes) */
  readonly submit: (cbor: Uint8Array) => Effect.Effect<string, ChainError>
  readonly status: (
    txId: string
  ) => Effect.Effect<{ readonly status: ChainTxStatus; readonly confirmations: number }, ChainError>
}

export class Chain extends Context.Tag("brandme/Chain")<Chain, ChainService>() {}
