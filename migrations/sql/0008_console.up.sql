-- The console's API (issue 15): garment version history (knowledge), acknowledged escalations
-- (compliance), webhook delivery attempts (orchestrator).

-- knowledge: every version of a garment, written in the same statement as the garment itself.
CREATE TABLE garment_versions (
  garment_id uuid NOT NULL REFERENCES garments (id) ON DELETE CASCADE,
  version integer NOT NULL,
  name text NOT NULL,
  batch text,
  facets jsonb NOT NULL CHECK (jsonb_typeof(facets) = 'object'),
  -- who wrote it (not a foreign key: the record outlives an erased account)
  changed_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (garment_id, version)
);
INSERT INTO garment_versions (garment_id, version, name, batch, facets, created_at)
  SELECT id, version, name, batch, facets, updated_at FROM garments;
-- cursor paging of a brand's garments is (created_at DESC, id DESC)
CREATE INDEX garments_brand_page_idx ON garments (brand_id, created_at DESC, id DESC);

-- compliance: who acknowledged an escalation, when, and why.
ALTER TABLE escalations
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN acknowledged_by uuid,
  ADD COLUMN ack_note text CHECK (length(ack_note) <= 2000);

-- orchestrator: one row per webhook delivery attempt (success or failure).
CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  delivery_id text NOT NULL,
  event text NOT NULL,
  attempt integer NOT NULL,
  -- the receiver's HTTP status; 0 when it did not answer
  status integer NOT NULL,
  ok boolean NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, id DESC);
CREATE INDEX webhook_deliveries_created_at_idx ON webhook_deliveries (created_at);
