/**
 * The cold bench's catalogue: 1,000,000 garments of 50 brands (200 products each, 100 serials per
 * product), as the migrations define them — each garment with its first version in garment_versions;
 * one in 20 owned (10,000 owners with sealed names and subject keys, each garment's claim in
 * ownership_events, one in five passed on by a transfer); a third of the owners sharing their ownership
 * history, a tenth their identity (consents). Written by set-based SQL (generate_series joined to a
 * products table), not one round trip per row.
 */
import { createHash, randomUUID } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { defaultMigrationsDir } from "../../migrations/Migrator.js"
import { databaseName, withAdminClient } from "../../shared/layers/Admin.js"
import { lookupHash, masterKeyBytes, newSubjectKey, seal, wrapSubjectKey } from "../../shared/crypto/Pii.js"
import { withCheckDigit } from "../../shared/domain/Gtin.js"

export const BRANDS = 50
export const PRODUCTS_PER_BRAND = 200
export const PRODUCTS = BRANDS * PRODUCTS_PER_BRAND
export const GARMENTS = 1_000_000
/** one garment in OWNED_EVERY has an owner */
export const OWNED_EVERY = 20
export const OWNERS = 10_000

/** the GTIN of product p (0..PRODUCTS-1): brand p % BRANDS, check digit valid */
export const gtinOf = (p: number): string =>
  withCheckDigit(`0950${String(1000 + (p % BRANDS)).padStart(4, "0")}${String(p).padStart(5, "0")}`)

/** garment i (0..GARMENTS-1): product i % PRODUCTS, serial S<i> */
export const garmentKey = (i: number): { readonly gtin: string; readonly serial: string } => ({
  gtin: gtinOf(i % PRODUCTS),
  serial: `S${String(i).padStart(7, "0")}`
})

const REGIONS = ["FR", "DE", "IT", "US-CA", "US-NY", "GB", "JP", null] as const
const FIBRES = ["linen", "cotton", "wool", "silk", "hemp", "recycled polyester"] as const
const COUNTRIES = ["PT", "IT", "FR", "TR", "IN", "BD", "VN", "PE"] as const
const KINDS = ["overshirt", "t-shirt", "jacket", "dress", "trousers", "coat", "sweater", "scarf"] as const

const pick = <A>(xs: ReadonlyArray<A>, i: number): A => xs[i % xs.length] as A

/** a product's passport facets (every group the facets column holds) */
const facetsOf = (p: number) => {
  const fibre = pick(FIBRES, p)
  const country = pick(COUNTRIES, p * 7)
  return {
    materials: [
      { fibre, percent: 80 + (p % 21) },
      { fibre: "elastane", percent: 20 - (p % 21) }
    ].filter((m) => m.percent > 0),
    origin: { country, facility: `Mill ${1 + (p % 40)}` },
    supply_chain: [
      { step: "spinning", country: pick(COUNTRIES, p + 3), at: "2026-01-12" },
      { step: "weaving", country, at: "2026-02-03" },
      { step: "sewing", country, at: "2026-03-15" }
    ],
    care: { wash: p % 3 === 0 ? "30C gentle" : "40C", dry: "line", iron: p % 2 === 0 ? "low" : "medium" },
    certifications: p % 4 === 0 ? [] : [{ name: p % 2 === 0 ? "GOTS" : "OEKO-TEX", id: `CERT-${p}` }]
  }
}

/** a sealed display name and a wrapped subject key per owner (the users/subject_keys shape identity writes) */
const people = (master: Buffer, n: number, label: string) => {
  const ids: Array<string> = []
  const hashes: Array<Buffer> = []
  const names: Array<Buffer> = []
  const keys: Array<Buffer> = []
  const regions: Array<string | null> = []
  for (let i = 0; i < n; i++) {
    const key = newSubjectKey()
    ids.push(randomUUID())
    hashes.push(lookupHash(master, `${label}-${i}-${randomUUID()}@bench.example`))
    names.push(seal(key, `${label} ${i}`))
    keys.push(wrapSubjectKey(master, key))
    regions.push(pick(REGIONS, i))
  }
  return { ids, hashes, names, keys, regions }
}

export interface Catalog {
  readonly brandIds: ReadonlyArray<string>
  /** the owners' ids, owner j owns garments i with i % OWNED_EVERY = 0 and (i / OWNED_EVERY) % OWNERS = j */
  readonly ownerIds: ReadonlyArray<string>
  readonly seconds: number
  /** where the seeding time went */
  readonly steps: ReadonlyArray<string>
}

/** the owner of garment i, or undefined */
export const ownerIndexOf = (i: number): number | undefined =>
  i % OWNED_EVERY === 0 ? Math.floor(i / OWNED_EVERY) % OWNERS : undefined

/** Seeds the catalogue into an empty, migrated database. */
const seedCatalog = async (databaseUrl: string, piiMasterKey: string): Promise<Catalog> => {
  const t0 = performance.now()
  const master = masterKeyBytes(piiMasterKey)
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const steps: Array<string> = []
  let t = performance.now()
  const step = (name: string) => {
    const now = performance.now()
    steps.push(`${name} ${((now - t) / 1000).toFixed(1)} s`)
    t = now
  }
  try {
    await client.query("SET synchronous_commit = off")
    await client.query("SET maintenance_work_mem = '256MB'")
    // the rows are consistent by construction: no foreign-key trigger per row (superuser, the bench's own database)
    await client.query("SET session_replication_role = replica")
    // the secondary indexes are built once after the load, from their own definitions (as the migrations wrote them)
    const secondary = await client.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename IN ('garments', 'garment_versions', 'ownership_events')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
    )
    for (const i of secondary.rows) await client.query(`DROP INDEX ${i.name}`)
    // so are the unique keys no foreign key points at: (gtin, serial) and garment_versions' primary key
    const keys = await client.query<{ table: string; name: string; def: string }>(
      `SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c
       WHERE c.conrelid IN ('garments'::regclass, 'garment_versions'::regclass) AND c.contype IN ('u', 'p')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)`
    )
    for (const k of keys.rows) await client.query(`ALTER TABLE ${k.table} DROP CONSTRAINT ${k.name}`)
    const brands = await client.query<{ id: string }>(
      `INSERT INTO brands (slug, name, gs1_company_prefix)
       SELECT 'bench-brand-' || b, 'Bench Brand ' || b, '950' || (1000 + b)::text
       FROM generate_series(0, $1 - 1) b ORDER BY b RETURNING id`,
      [BRANDS]
    )
    const brandIds = brands.rows.map((r) => r.id)
    const products = Array.from({ length: PRODUCTS }, (_, p) => p)
    await client.query(
      "CREATE TEMP TABLE bench_products (p int PRIMARY KEY, brand_id uuid, gtin text, name text, facets jsonb)"
    )
    await client.query(
      `INSERT INTO bench_products
       SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])`,
      [
        products,
        products.map((p) => brandIds[p % BRANDS]),
        products.map(gtinOf),
        products.map((p) => `${pick(FIBRES, p)} ${pick(KINDS, Math.floor(p / BRANDS))} ${p}`),
        products.map((p) => JSON.stringify(facetsOf(p)))
      ]
    )
    step("brands+products")
    // owners, and the previous owners of transferred garments (one in five)
    const owners = people(master, OWNERS, "Owner")
    const previous = people(master, OWNERS / 5, "Previous")
    for (const ps of [owners, previous]) {
      await client.query(
        `INSERT INTO users (id, email_hash, display_name_sealed, role, region_code)
         SELECT id, h, n, 'owner', r FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::text[]) AS t(id, h, n, r)`,
        [ps.ids, ps.hashes, ps.names, ps.regions]
      )
      await client.query("INSERT INTO subject_keys (subject_id, key) SELECT * FROM unnest($1::uuid[], $2::bytea[])", [
        ps.ids,
        ps.keys
      ])
    }
    await client.query("CREATE TEMP TABLE bench_owners (j int PRIMARY KEY, id uuid, previous uuid)")
    await client.query(
      "INSERT INTO bench_owners SELECT j - 1, id, prev FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(id, prev, j)",
      [owners.ids, owners.ids.map((_, j) => (j % 5 === 0 ? previous.ids[j / 5] : null))]
    )
    step("owners")
    // the garments and their first versions, in one statement each way (as GarmentRepo.insert writes them)
    await client.query(
      `WITH g AS (
         INSERT INTO garments (brand_id, gtin, serial, batch, name, facets, owner_user_id, created_at, updated_at)
         SELECT p.brand_id, p.gtin, 'S' || lpad(i::text, 7, '0'), 'B' || (i / 100000), p.name, p.facets, o.id,
                now() - (i % 1000) * interval '1 hour', now() - (i % 1000) * interval '1 hour'
         FROM generate_series(0, $1 - 1) i
         JOIN bench_products p ON p.p = i % $2
         LEFT JOIN bench_owners o ON i % $3 = 0 AND o.j = (i / $3) % $4
         RETURNING id, version, name, batch, facets, created_at
       )
       INSERT INTO garment_versions (garment_id, version, name, batch, facets, created_at)
       SELECT id, version, name, batch, facets, created_at FROM g`,
      [GARMENTS, PRODUCTS, OWNED_EVERY, OWNERS]
    )
    step("garments+versions")
    // ownership: a claim by the owner; for one owner in five, an earlier claim and a transfer to them
    await client.query(
      `INSERT INTO ownership_events (garment_id, kind, from_user_id, to_user_id, created_at)
       SELECT g.id, e.kind, e.from_user, e.to_user, g.created_at + e.after
       FROM garments g JOIN bench_owners o ON o.id = g.owner_user_id
       CROSS JOIN LATERAL (VALUES
         ('claimed', NULL::uuid, COALESCE(o.previous, o.id), interval '1 day'),
         ('transfer_offered', o.previous, o.id, interval '30 days'),
         ('transfer_accepted', o.previous, o.id, interval '31 days')
       ) AS e(kind, from_user, to_user, after)
       WHERE e.kind = 'claimed' OR o.previous IS NOT NULL`
    )
    step("ownership")
    // consents (latest row in force): a third share their history, a tenth their identity
    await client.query(
      `INSERT INTO consents (owner_user_id, garment_id, purpose, granted, policy_version)
       SELECT o.id, NULL, c.purpose, true, 'bench'
       FROM bench_owners o
       CROSS JOIN LATERAL (VALUES ('ownership_history', o.j % 3 = 0), ('owner_identity', o.j % 10 = 0)) AS c(purpose, yes)
       WHERE c.yes`
    )
    step("consents")
    for (const k of keys.rows) await client.query(`ALTER TABLE ${k.table} ADD CONSTRAINT ${k.name} ${k.def}`)
    for (const i of secondary.rows) await client.query(i.def)
    step("indexes")
    // as a long-lived table would be: statistics, visibility map, hint bits (no first reader writes pages)
    await client.query("VACUUM ANALYZE")
    step("vacuum")
    return { brandIds, ownerIds: owners.ids, seconds: (performance.now() - t0) / 1000, steps }
  } finally {
    await client.end()
  }
}

const TEMPLATE_PREFIX = "brandme_bench_cold_"

/**
 * The name of the seeded template for this code: a hash of every migration, this file and the PII master
 * key (the owners' names are sealed under it), so a template seeded by other migrations or another
 * catalogue is never used — it has another name.
 */
export const templateName = (piiMasterKey: string): string => {
  const h = createHash("sha256")
  const dir = defaultMigrationsDir()
  for (const f of readdirSync(dir).sort()) {
    if (f.endsWith(".sql")) h.update(f).update(readFileSync(join(dir, f)))
  }
  h.update(readFileSync(new URL(import.meta.url))).update(piiMasterKey)
  return `${TEMPLATE_PREFIX}${h.digest("hex").slice(0, 16)}`
}

/** what a complete template says about itself (written last, so a half-seeded one never has it) */
const readyMark = (name: string) => `ready ${name} garments=${GARMENTS} brands=${BRANDS} owners=${OWNERS}`

/**
 * The catalogue in `databaseUrl` (a migrated, empty database nobody is connected to): copied from the
 * template for this code when one is complete (seconds), else seeded (about a minute) and kept as that
 * template for the next run (BENCH_RESEED=1 seeds afresh). Templates of other code are dropped. The copy
 * is checked (row counts) before it is used.
 */
export const catalogInto = async (
  databaseUrl: string,
  piiMasterKey: string,
  reseed: boolean
): Promise<{ readonly source: string; readonly seconds: number }> => {
  const t0 = performance.now()
  const target = databaseName(databaseUrl)
  const template = templateName(piiMasterKey)
  const ready = await withAdminClient(databaseUrl, async (admin) => {
    const found = await admin.query<{ mark: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1",
      [template]
    )
    const complete = !reseed && found.rows[0]?.mark === readyMark(template)
    if (complete) {
      await admin.query(`DROP DATABASE "${target}" WITH (FORCE)`)
      await admin.query(`CREATE DATABASE "${target}" TEMPLATE "${template}" STRATEGY FILE_COPY`)
    }
    return complete
  })
  let source = `copied from template ${template}`
  if (!ready) {
    const seeded = await seedCatalog(databaseUrl, piiMasterKey)
    source = `seeded (${seeded.steps.join(", ")}), kept as template ${template}`
    await withAdminClient(databaseUrl, async (admin) => {
      const old = await admin.query<{ name: string }>("SELECT datname AS name FROM pg_database WHERE datname LIKE $1", [
        `${TEMPLATE_PREFIX}%`
      ])
      for (const o of old.rows) await admin.query(`DROP DATABASE "${o.name}" WITH (FORCE)`)
      await admin.query(`CREATE DATABASE "${template}" TEMPLATE "${target}" STRATEGY FILE_COPY`)
      await admin.query(`COMMENT ON DATABASE "${template}" IS '${readyMark(template)}'`)
    })
  }
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ garments: string; owned: string; brands: string }>(
      `SELECT (SELECT count(*) FROM garments WHERE serial LIKE 'S%') AS garments,
              (SELECT count(*) FROM garments WHERE owner_user_id IS NOT NULL AND serial LIKE 'S%') AS owned,
              (SELECT count(*) FROM brands WHERE slug LIKE 'bench-brand-%') AS brands`
    )
    const r = rows[0]
    if (
      Number(r?.garments) !== GARMENTS ||
      Number(r?.owned) !== GARMENTS / OWNED_EVERY ||
      Number(r?.brands) !== BRANDS
    ) {
      throw new Error(`the catalogue in ${target} is not whole: ${JSON.stringify(r)} (run with BENCH_RESEED=1)`)
    }
  } finally {
    await client.end()
  }
  return { source, seconds: (performance.now() - t0) / 1000 }
}
