-- compliance: the tamper-evident audit log, an RFC 9162 Merkle tree (owned by the compliance service).
-- Leaves hold the canonical entry bytes; audit_nodes holds every *perfect* subtree hash (level 0 = leaf hashes)
-- so a proof needs O(log n) primary-key lookups; checkpoints hold the signed tree heads (C2SP signed notes).

-- The single sequencer row: an appender locks it (SELECT ... FOR UPDATE), assigns the next contiguous
-- indices and writes leaves + nodes in the same transaction, so many processes never fork or leave a gap.
CREATE TABLE audit_tree_state (
  id         smallint    PRIMARY KEY CHECK (id = 1),
  tree_size  bigint      NOT NULL CHECK (tree_size >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_tree_state (id, tree_size) VALUES (1, 0);

CREATE TABLE audit_leaves (
  leaf_index  bigint      PRIMARY KEY CHECK (leaf_index >= 0),
  leaf_bytes  bytea       NOT NULL,
  leaf_hash   bytea       NOT NULL CHECK (octet_length(leaf_hash) = 32),
  kind        text        NOT NULL,
  recorded_at timestamptz NOT NULL
);

-- node (level, node_index) = hash of leaves [node_index * 2^level, (node_index + 1) * 2^level)
CREATE TABLE audit_nodes (
  level      smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
  node_index bigint   NOT NULL CHECK (node_index >= 0),
  hash       bytea    NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, node_index)
);

CREATE TABLE audit_checkpoints (
  tree_size  bigint      PRIMARY KEY CHECK (tree_size >= 0),
  root       bytea       NOT NULL CHECK (octet_length(root) = 32),
  note       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Append-only: the application never updates or deletes log rows. This stops accidents and ordinary roles;
-- a superuser can still bypass it, which is what the integrity job (and the signed checkpoints) are for.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
