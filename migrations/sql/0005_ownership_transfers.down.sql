DROP TABLE IF EXISTS ownership_transfers;
