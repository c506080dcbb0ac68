DROP TABLE IF EXISTS escalations;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS webhook_subscriptions;
DROP TABLE IF EXISTS scan_events;
DROP RULE IF EXISTS consents_no_update ON consents;
DROP TABLE IF EXISTS consents;
DROP TABLE IF EXISTS ownership_events;
DROP TABLE IF EXISTS claim_codes;
DROP TABLE IF EXISTS garments;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS devices;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS subject_keys;
DROP TABLE IF EXISTS brands;
-- the extensions stay: other databases objects may use them, and CREATE EXTENSION IF NOT EXISTS is idempotent
