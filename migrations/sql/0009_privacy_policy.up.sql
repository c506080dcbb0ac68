-- policy: every version of the privacy rules that has run (services/policy/Rules.ts, named in each decision).
-- The first process to start a version inserts its row and, in the same transaction, enqueues ONE
-- policy_version audit entry: the primary key makes that exactly once across replicas.
CREATE TABLE policy_versions (
  version text PRIMARY KEY,
  rules jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

-- identity: region_code is the person's jurisdiction (where they live: FR, US-CA, …). The policy applies the
-- stricter of it and the scanner's region to their data; NULL (never given) is treated as the strictest.
COMMENT ON COLUMN users.region_code IS
  'jurisdiction of the data subject (ISO 3166 country or subdivision); NULL = unknown, strictest regime';
