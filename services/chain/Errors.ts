import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** CHAIN_* settings that cannot be used (a key that is not hex of the right length, a missing project id). */
export class ChainConfigError extends Schema.TaggedError<ChainConfigError>()(
  "ChainConfigError",
  { setting: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 500 })
) {}

/** The wallet cannot pay for the anchor (no UTXO large enough) or the transaction would be too large. */
export class TxBuildError extends Schema.TaggedError<TxBuildError>()(
  "TxBuildError",
  {
    reason: Schema.Literal("InsufficientFunds", "TooLarge", "InvalidPayload", "Serialization"),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** CBOR that is not a transaction carrying a well-formed Brand.Me anchor (label 674). */
export class AnchorDecodeError extends Schema.TaggedError<AnchorDecodeError>()(
  "AnchorDecodeError",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** Why the local ledger refused a transaction — codes named after the Cardano ledger failures they mimic. */
export const LedgerRejectionCode = Schema.Literal(
  "Malformed",
  "Unsupported",
  "MissingSignatories",
  "InvalidSignatories",
  "FeeTooSmall",
  "TransactionTooLarge",
  "UnknownOutputReferences",
  "ValueNotConserved",
  "OutputTooSmall",
  "MissingMetadata",
  "MetadataHashMismatch",
  "InvalidMetadata"
)
export type LedgerRejectionCode = typeof LedgerRejectionCode.Type

export class LedgerRejection extends Schema.TaggedError<LedgerRejection>()(
  "LedgerRejection",
  { code: LedgerRejectionCode, message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** The provider refused the transaction itself: resubmitting the same bytes cannot succeed (not retryable). */
export class ChainSubmitRejected extends Schema.TaggedError<ChainSubmitRejected>()(
  "ChainSubmitRejected",
  { provider: Schema.String, code: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {
  readonly retryable = false
}

/** The provider could not be reached or asked us to slow down (429, 5xx, network): retry with backoff. */
export class ChainProviderUnavailable extends Schema.TaggedError<ChainProviderUnavailable>()(
  "ChainProviderUnavailable",
  {
    provider: Schema.String,
    operation: Schema.String,
    status: Schema.optional(Schema.Number),
    message: Schema.String
  },
  HttpApiSchema.annotations({ status: 503 })
) {
  readonly retryable = true
}

/** The checkpoint was already anchored with a different root: the audit log forked or was rewritten. */
export class AnchorConflict extends Schema.TaggedError<AnchorConflict>()(
  "AnchorConflict",
  { origin: Schema.String, treeSize: Schema.Number, anchoredRoot: Schema.String, requestedRoot: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export const describe = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)
