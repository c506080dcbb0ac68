-- Core domain: brands, people, devices, garments, ownership, consent, scans, notifications, escalations.
-- Each table has one owning service (see docs/data-model.md); only that service writes it.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- identity ---------------------------------------------------------------------------------------
CREATE TABLE brands (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL,
  gs1_company_prefix text CHECK (gs1_company_prefix ~ '^[0-9]{6,12}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Per-subject encryption keys: personal data is sealed with the subject's key; erasing a person
-- deletes the key (crypto-shredding) and every sealed value becomes unreadable.
CREATE TABLE subject_keys (
  subject_id uuid PRIMARY KEY,
  key bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- lookup by a keyed hash of the normalised email; the email itself is sealed with the subject key
  email_hash bytea NOT NULL UNIQUE,
  email_sealed bytea,
  display_name_sealed bytea,
  password_hash text,
  role text NOT NULL CHECK (role IN ('owner', 'brand', 'auditor', 'admin')),
  brand_id uuid REFERENCES brands (id) ON DELETE RESTRICT,
  region_code text CHECK (region_code ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  CHECK (role <> 'brand' OR brand_id IS NOT NULL)
);
CREATE INDEX users_brand_id_idx ON users (brand_id);

CREATE TABLE devices (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  brand_id uuid REFERENCES brands (id) ON DELETE CASCADE,
  name text NOT NULL,
  api_key_prefix text NOT NULL UNIQUE,
  api_key_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  CHECK (user_id IS NOT NULL OR brand_id IS NOT NULL)
);
CREATE INDEX devices_user_id_idx ON devices (user_id);
CREATE INDEX devices_brand_id_idx ON devices (brand_id);

CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- knowledge --------------------------------------------------------------------------------------
CREATE TABLE garments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  brand_id uuid NOT NULL REFERENCES brands (id) ON DELETE RESTRICT,
  gtin char(14) NOT NULL CHECK (gtin ~ '^[0-9]{14}$'),
  serial text NOT NULL CHECK (length(serial) BETWEEN 1 AND 20),
  batch text,
  name text NOT NULL,
  -- facet groups: materials, origin, supply_chain, care, certifications (ownership history is derived)
  facets jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(facets) = 'object'),
  owner_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (gtin, serial)
);
CREATE INDEX garments_brand_id_idx ON garments (brand_id, created_at DESC);
CREATE INDEX garments_owner_user_id_idx ON garments (owner_user_id);
CREATE INDEX garments_facets_gin ON garments USING gin (facets jsonb_path_ops);

CREATE TABLE claim_codes (
  code_hash bytea PRIMARY KEY,
  garment_id uuid NOT NULL REFERENCES garments (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  claimed_by uuid REFERENCES users (id) ON DELETE SET NULL,
  claimed_at timestamptz
);
CREATE INDEX claim_codes_garment_id_idx ON claim_codes (garment_id);
CREATE INDEX claim_codes_claimed_by_idx ON claim_codes (claimed_by);
CREATE INDEX claim_codes_expires_at_idx ON claim_codes (expires_at) WHERE claimed_at IS NULL;

CREATE TABLE ownership_events (
  id bigserial PRIMARY KEY,
  garment_id uuid NOT NULL REFERENCES garments (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('claimed', 'transfer_offered', 'transfer_accepted', 'transfer_cancelled')),
  from_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  to_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ownership_events_garment_idx ON ownership_events (garment_id, created_at);
CREATE INDEX ownership_events_from_user_idx ON ownership_events (from_user_id);
CREATE INDEX ownership_events_to_user_idx ON ownership_events (to_user_id);

-- policy -----------------------------------------------------------------------------------------
-- Append-only: a withdrawal is a new row with granted = false; the latest row per
-- (owner, garment, purpose) is in force.
CREATE TABLE consents (
  id bigserial PRIMARY KEY,
  owner_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  garment_id uuid REFERENCES garments (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose ~ '^[a-z_]{2,40}$'),
  granted boolean NOT NULL,
  policy_version text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consents_current_idx ON consents (owner_user_id, garment_id, purpose, id DESC);
CREATE INDEX consents_garment_id_idx ON consents (garment_id);
CREATE RULE consents_no_update AS ON UPDATE TO consents DO INSTEAD NOTHING;

-- scans ------------------------------------------------------------------------------------------
CREATE TABLE scan_events (
  id uuid PRIMARY KEY,
  garment_id uuid NOT NULL REFERENCES garments (id) ON DELETE CASCADE,
  scanner_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  device_id uuid REFERENCES devices (id) ON DELETE SET NULL,
  role text NOT NULL,
  intent text NOT NULL,
  region_code text NOT NULL,
  decision jsonb NOT NULL,
  scanned_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scan_events_garment_time_idx ON scan_events (garment_id, scanned_at DESC);
CREATE INDEX scan_events_scanner_time_idx ON scan_events (scanner_user_id, scanned_at DESC);
CREATE INDEX scan_events_device_id_idx ON scan_events (device_id);
CREATE INDEX scan_events_region_code_idx ON scan_events (region_code, scanned_at DESC);
CREATE INDEX scan_events_scanned_at_idx ON scan_events (scanned_at);
CREATE INDEX scan_events_decision_gin ON scan_events USING gin (decision jsonb_path_ops);

-- notifications ----------------------------------------------------------------------------------
CREATE TABLE webhook_subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  brand_id uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (url ~ '^https?://'),
  events text[] NOT NULL,
  secret_sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE INDEX webhook_subscriptions_brand_id_idx ON webhook_subscriptions (brand_id);

CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz
);
CREATE INDEX notifications_user_time_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_created_at_idx ON notifications (created_at);
CREATE INDEX notifications_payload_gin ON notifications USING gin (payload jsonb_path_ops);

-- compliance -------------------------------------------------------------------------------------
CREATE TABLE escalations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  subject text NOT NULL,
  garment_id uuid REFERENCES garments (id) ON DELETE SET NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key text UNIQUE,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);
CREATE INDEX escalations_status_time_idx ON escalations (status, created_at DESC);
CREATE INDEX escalations_garment_id_idx ON escalations (garment_id);
CREATE INDEX escalations_details_gin ON escalations USING gin (details jsonb_path_ops);
