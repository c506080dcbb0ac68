DROP TABLE IF EXISTS audit_checkpoints;
DROP TABLE IF EXISTS audit_nodes;
DROP TABLE IF EXISTS audit_leaves;
DROP TABLE IF EXISTS audit_tree_state;
DROP FUNCTION IF EXISTS audit_log_append_only();
