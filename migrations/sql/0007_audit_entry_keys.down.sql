DROP INDEX IF EXISTS audit_leaves_idempotency_key;
ALTER TABLE audit_leaves DROP COLUMN IF EXISTS appended_at;
ALTER TABLE audit_leaves DROP COLUMN IF EXISTS idempotency_key;
