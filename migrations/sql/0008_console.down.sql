DROP TABLE IF EXISTS webhook_deliveries;
ALTER TABLE escalations DROP COLUMN IF EXISTS ack_note, DROP COLUMN IF EXISTS acknowledged_by,
  DROP COLUMN IF EXISTS acknowledged_at;
DROP INDEX IF EXISTS garments_brand_page_idx;
DROP TABLE IF EXISTS garment_versions;
