COMMENT ON COLUMN users.region_code IS NULL;
DROP TABLE IF EXISTS policy_versions;
