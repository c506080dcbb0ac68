-- compliance: an audit entry's identity (its idempotency key, e.g. `scan-<scan id>`) is stored with its leaf and
-- unique, and the sequencer looks the keys of a batch up under its state-row lock: a retried append (a job run again
-- after its worker died between the commit and the job's completion) gets the existing leaf index back instead of
-- appending a second leaf. NULL for entries without a key (and for leaves from before this migration).
-- appended_at: when the sequencer wrote the leaf (recorded_at is the entry's own time), for the leaf latency figure.
ALTER TABLE audit_leaves ADD COLUMN idempotency_key text;
ALTER TABLE audit_leaves ADD COLUMN appended_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX audit_leaves_idempotency_key ON audit_leaves (idempotency_key);
