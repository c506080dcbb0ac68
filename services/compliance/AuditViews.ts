import { Schema } from "effect"

/** JSON bodies of the audit endpoints (hashes hex-encoded). The lead's Api.ts can `addSuccess` these. */
const Hex32 = Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/))

/** GET /v1/audit/checkpoint */
export const CheckpointView = Schema.Struct({
  origin: Schema.String,
  treeSize: Schema.Number,
  rootHash: Hex32,
  /** The C2SP signed note, verbatim: verify it with the published verifier key. */
  note: Schema.String,
  createdAt: Schema.String
})
export type CheckpointView = typeof CheckpointView.Type

/** GET /v1/audit/entries/:index — the leaf and its inclusion proof against a signed checkpoint. */
export const EntryView = Schema.Struct({
  index: Schema.Number,
  kind: Schema.String,
  recordedAt: Schema.String,
  /** Canonical leaf bytes (shared/audit/AuditEntry.ts), hex; personal identifiers inside are sealed. */
  leafData: Schema.String,
  leafHash: Hex32,
  treeSize: Schema.Number,
  rootHash: Hex32,
  inclusionProof: Schema.Array(Hex32),
  checkpoint: Schema.String
})
export type EntryView = typeof EntryView.Type

/** GET /v1/audit/consistency?from=&to= */
export const ConsistencyView = Schema.Struct({
  from: Schema.Number,
  to: Schema.Number,
  fromRoot: Hex32,
  toRoot: Hex32,
  proof: Schema.Array(Hex32)
})
export type ConsistencyView = typeof ConsistencyView.Type
