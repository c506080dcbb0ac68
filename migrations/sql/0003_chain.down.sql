DROP SEQUENCE IF EXISTS chain_ledger_block_height_seq;
DROP TABLE IF EXISTS chain_ledger_utxos;
DROP TABLE IF EXISTS chain_ledger_transactions;
DROP TABLE IF EXISTS chain_transactions;
