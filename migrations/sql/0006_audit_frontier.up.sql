-- compliance: the sequencer keeps the tree's right frontier (the perfect subtrees of [0, tree_size), left to
-- right, 32 bytes each: one per set bit of tree_size) in its own locked row, so an append reads the state it
-- builds on with the lock itself and never queries audit_nodes. NULL (a log from before this migration) makes
-- the next append load the frontier from audit_nodes once and store it.
ALTER TABLE audit_tree_state ADD COLUMN frontier bytea;
