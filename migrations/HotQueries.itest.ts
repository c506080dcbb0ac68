import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestDatabase, type TestDatabase } from "../shared/testing/TestDatabase.js"

/**
 * The hot queries must be served by an index. Realistic volume (20k scans over 5k of 20k garments,
 * analysed) so the planner's choice is the one production would make.
 */
interface PlanNode {
  readonly "Node Type": string
  readonly "Index Name"?: string
  readonly Plans?: ReadonlyArray<PlanNode>
}

const indexesUsed = (node: PlanNode): Array<string> => [
  ...(node["Index Name"] !== undefined ? [node["Index Name"]] : []),
  ...(node.Plans ?? []).flatMap(indexesUsed)
]
const nodeTypes = (node: PlanNode): Array<string> => [node["Node Type"], ...(node.Plans ?? []).flatMap(nodeTypes)]

describe("hot queries use an index", () => {
  let db: TestDatabase
  let client: pg.Client
  let garment: { id: string; gtin: string; serial: string }
  let scanner: string

  beforeAll(async () => {
    db = await createTestDatabase("hotq")
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query(`
      INSERT INTO brands (slug, name) VALUES ('hot-brand', 'Hot');
      INSERT INTO users (email_hash, role, region_code)
        SELECT digest('u' || g, 'sha256'), 'owner', 'FR' FROM generate_series(1, 500) g;
      INSERT INTO garments (brand_id, gtin, serial, name, facets)
        SELECT (SELECT id FROM brands), lpad(g::text, 14, '0'), 'S' || g, 'G' || g,
               jsonb_build_object('origin', jsonb_build_object('country', CASE WHEN g % 2 = 0 THEN 'PT' ELSE 'IT' END),
                                  'certifications', jsonb_build_array(jsonb_build_object('name', 'GOTS', 'id', 'C-' || g)))
        FROM generate_series(1, 20000) g;
      WITH u AS (SELECT array_agg(id) AS a FROM users),
           gs AS (SELECT array_agg(id) AS a FROM (SELECT id FROM garments ORDER BY gtin LIMIT 5000) x)
      INSERT INTO scan_events (id, garment_id, scanner_user_id, role, intent, region_code, decision, scanned_at)
        SELECT gen_random_uuid(), (SELECT a FROM gs)[1 + (g % 5000)], (SELECT a FROM u)[1 + (g % 500)],
               'public', 'public_view', CASE WHEN g % 3 = 0 THEN 'FR' ELSE 'US-CA' END,
               '{"regime":"gdpr"}'::jsonb, now() - (g || ' seconds')::interval
        FROM generate_series(1, 20000) g;
      ANALYZE;
    `)
    const g = await client.query("SELECT id, gtin, serial FROM garments WHERE serial = 'S42'")
    garment = g.rows[0]
    scanner = (await client.query("SELECT scanner_user_id AS id FROM scan_events LIMIT 1")).rows[0].id
  })
  afterAll(async () => {
    await client.end()
    await db.drop()
  })

  const plan = async (sql: string, params: ReadonlyArray<unknown>): Promise<PlanNode> => {
    const res = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, [...params])
    return res.rows[0]["QUERY PLAN"][0].Plan
  }

  it("scans of a garment in time order", async () => {
    const p = await plan("SELECT * FROM scan_events WHERE garment_id = $1 ORDER BY scanned_at DESC LIMIT 50", [
      garment.id
    ])
    expect(indexesUsed(p)).toContain("scan_events_garment_time_idx")
    expect(nodeTypes(p)).not.toContain("Seq Scan")
  })

  it("scans by scanner", async () => {
    const p = await plan("SELECT * FROM scan_events WHERE scanner_user_id = $1 ORDER BY scanned_at DESC LIMIT 50", [
      scanner
    ])
    expect(indexesUsed(p)).toContain("scan_events_scanner_time_idx")
    expect(nodeTypes(p)).not.toContain("Seq Scan")
  })

  it("a garment by GTIN + serial", async () => {
    const p = await plan("SELECT * FROM garments WHERE gtin = $1 AND serial = $2", [garment.gtin, garment.serial])
    expect(indexesUsed(p)).toContain("garments_gtin_serial_key")
  })

  it("facet containment on JSONB", async () => {
    const p = await plan("SELECT id FROM garments WHERE facets @> $1::jsonb", [
      JSON.stringify({ certifications: [{ id: "C-42" }] })
    ])
    expect(indexesUsed(p)).toContain("garments_facets_gin")
    expect(nodeTypes(p)).not.toContain("Seq Scan")
  })
})
