import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** The requested entry is not in the log (or not yet covered by a signed checkpoint). */
export class AuditEntryNotFound extends Schema.TaggedError<AuditEntryNotFound>()(
  "AuditEntryNotFound",
  { message: Schema.String, index: Schema.Number },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** No checkpoint has been signed yet. */
export class AuditNoCheckpoint extends Schema.TaggedError<AuditNoCheckpoint>()(
  "AuditNoCheckpoint",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** A proof was asked for sizes/indices the tree cannot answer (from > to, from = 0, beyond the tree). */
export class AuditRangeInvalid extends Schema.TaggedError<AuditRangeInvalid>()(
  "AuditRangeInvalid",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

/** An entry could not be turned into a leaf (bad kind, missing subject key, ...). */
export class AuditEntryRejected extends Schema.TaggedError<AuditEntryRejected>()(
  "AuditEntryRejected",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** The store is unreachable or its tree is inconsistent (missing nodes, a checkpoint that would fork). */
export class AuditStoreError extends Schema.TaggedError<AuditStoreError>()(
  "AuditStoreError",
  { message: Schema.String, operation: Schema.String },
  HttpApiSchema.annotations({ status: 500 })
) {}
