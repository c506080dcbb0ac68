ALTER TABLE audit_tree_state DROP COLUMN IF EXISTS frontier;
