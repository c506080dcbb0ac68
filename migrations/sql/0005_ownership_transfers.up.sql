-- identity: ownership transfers offered by an owner to another user. At most one pending offer per
-- garment (a partial unique index); accept/cancel lock the row, so concurrent answers serialize.
CREATE TABLE ownership_transfers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  garment_id uuid NOT NULL REFERENCES garments (id) ON DELETE CASCADE,
  from_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  to_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'cancelled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  decided_at timestamptz,
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX ownership_transfers_one_pending_idx ON ownership_transfers (garment_id) WHERE status = 'pending';
CREATE INDEX ownership_transfers_to_user_idx ON ownership_transfers (to_user_id, status);
CREATE INDEX ownership_transfers_from_user_idx ON ownership_transfers (from_user_id, status);
