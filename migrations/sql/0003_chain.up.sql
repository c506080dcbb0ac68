-- chain: the anchoring lifecycle of audit checkpoints (chain_transactions, owned by the chain service)
-- and the embedded local ledger that stands in for Cardano in development and tests (chain_ledger_*).

CREATE TABLE chain_transactions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  origin          text        NOT NULL CHECK (origin <> ''),
  tree_size       bigint      NOT NULL CHECK (tree_size >= 0),
  root            text        NOT NULL CHECK (root ~ '^[0-9a-f]{64}$'),
  provider        text        NOT NULL,
  tx_id           text        NOT NULL UNIQUE CHECK (tx_id ~ '^[0-9a-f]{64}$'),
  -- the exact signed bytes: resubmission sends these, never a re-encoding (a re-encoding may change the id)
  cbor            bytea       NOT NULL,
  fee             bigint      NOT NULL CHECK (fee >= 0),
  status          text        NOT NULL CHECK (status IN ('pending', 'submitted', 'confirmed', 'failed')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  submitted_at    timestamptz,
  confirmed_at    timestamptz,
  block_height    bigint,
  confirmations   integer,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- one transaction per checkpoint, however many times anchoring is asked for
  CONSTRAINT chain_transactions_checkpoint_key UNIQUE (origin, tree_size)
);

CREATE INDEX chain_transactions_status_idx ON chain_transactions (status, next_attempt_at);

CREATE TABLE chain_ledger_transactions (
  tx_id         text        PRIMARY KEY CHECK (tx_id ~ '^[0-9a-f]{64}$'),
  cbor          bytea       NOT NULL,
  size          integer     NOT NULL CHECK (size > 0),
  fee           bigint      NOT NULL CHECK (fee >= 0),
  status        text        NOT NULL CHECK (status IN ('submitted', 'confirmed', 'failed')),
  received_at   timestamptz NOT NULL DEFAULT now(),
  confirm_after timestamptz NOT NULL,
  confirmed_at  timestamptz,
  block_height  bigint
);

CREATE INDEX chain_ledger_transactions_due_idx ON chain_ledger_transactions (confirm_after) WHERE status = 'submitted';

CREATE TABLE chain_ledger_utxos (
  tx_id        text        NOT NULL,
  output_index integer     NOT NULL CHECK (output_index >= 0),
  address      text        NOT NULL,
  lovelace     bigint      NOT NULL CHECK (lovelace >= 0),
  -- NULL while unspent; genesis outputs have no creating transaction row
  spent_by     text        REFERENCES chain_ledger_transactions (tx_id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tx_id, output_index)
);

CREATE INDEX chain_ledger_utxos_unspent_idx ON chain_ledger_utxos (address) WHERE spent_by IS NULL;

CREATE SEQUENCE chain_ledger_block_height_seq;
