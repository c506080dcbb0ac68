DROP TABLE IF EXISTS digital_links;
