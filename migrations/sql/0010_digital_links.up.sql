-- gateway: the GS1 Digital Link resolver's links (docs/resolver.md). A brand links its GTINs to its own pages;
-- an entry may narrow to a consumer product variant (AI 22), a lot (AI 10) and/or a serial (AI 21). At
-- resolution the most specific entry of each link type wins: a serial without an entry inherits its GTIN's.
CREATE TABLE digital_links (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  brand_id uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
  gtin char(14) NOT NULL CHECK (gtin ~ '^[0-9]{14}$'),
  cpv text CHECK (length(cpv) BETWEEN 1 AND 20),
  lot text CHECK (length(lot) BETWEEN 1 AND 20),
  serial text CHECK (length(serial) BETWEEN 1 AND 20),
  link_type text NOT NULL CHECK (link_type ~ '^gs1:[A-Za-z]{2,60}$'),
  href text NOT NULL CHECK (href ~ '^https?://' AND length(href) <= 2048),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  lang text CHECK (lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  media_type text CHECK (media_type ~ '^[a-z]+/[A-Za-z0-9.+-]+$'),
  pass_qualifiers boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- one link per entry, type, language and media type
CREATE UNIQUE INDEX digital_links_entry_uq ON digital_links (
  gtin, coalesce(cpv, ''), coalesce(lot, ''), coalesce(serial, ''), link_type, coalesce(lang, ''), coalesce(media_type, '')
);
CREATE INDEX digital_links_brand_idx ON digital_links (brand_id, gtin);
