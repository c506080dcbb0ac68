-- Runs once, when the postgres container creates its data directory (docker-entrypoint-initdb.d).
-- The database itself is POSTGRES_DB; the schema comes from the migrations (the `migrate` one-shot),
-- so this file only installs the extensions the guide names. db-init does the same, idempotently.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
