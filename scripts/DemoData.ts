import { SqlClient } from "@effect/sql"
import { Effect, Redacted } from "effect"
import { AppConfig } from "../shared/config/AppConfig.js"
import { hashPassword } from "../shared/crypto/Password.js"
import { lookupHash, masterKeyBytes, newSubjectKey, seal, wrapSubjectKey } from "../shared/crypto/Pii.js"
import { withCheckDigit } from "../shared/domain/Gtin.js"

/**
 * Demo data for local runs: one brand, garments with valid GTINs and serials, and a user of each
 * role. Loaded once (the brand's slug marks it); the printed passwords are for this machine only.
 */
export const DEMO_BRAND_SLUG = "atelier-demo"
export const DEMO_COMPANY_PREFIX = "0614141"

export interface DemoUser {
  readonly role: "owner" | "brand" | "auditor" | "admin"
  readonly email: string
  readonly password: string
  readonly displayName: string
}

export const demoUsers: ReadonlyArray<DemoUser> = [
  { role: "owner", email: "owner@demo.brandme.local", password: "demo-owner-pass", displayName: "Olivia Owner" },
  { role: "brand", email: "brand@demo.brandme.local", password: "demo-brand-pass", displayName: "Bruno Brand" },
  { role: "auditor", email: "auditor@demo.brandme.local", password: "demo-auditor-pass", displayName: "Ada Auditor" },
  { role: "admin", email: "admin@demo.brandme.local", password: "demo-admin-pass", displayName: "Alex Admin" }
]

const garmentNames = ["Linen overshirt", "Merino crewneck", "Selvedge denim jacket", "Organic cotton tee", "Wool coat"]

export const demoGarments = garmentNames.map((name, i) => ({
  name,
  // GS1 company prefix + item reference, completed with its check digit (GTIN-13, normalised to 14)
  gtin: `0${withCheckDigit(`${DEMO_COMPANY_PREFIX}${String(10001 + i).slice(-5)}`)}`,
  serial: `SN${String(1000 + i)}`,
  facets: {
    materials: [{ fibre: i % 2 === 0 ? "linen" : "wool", percent: 100 }],
    origin: { country: i % 2 === 0 ? "PT" : "IT", facility: `Mill ${i + 1}` },
    supply_chain: [
      { step: "fibre", country: "FR", at: "2026-01-10" },
      { step: "weaving", country: "PT", at: "2026-02-02" },
      { step: "sewing", country: "PT", at: "2026-03-15" }
    ],
    care: { wash: "30C gentle", dry: "line dry", iron: "medium" },
    certifications: [{ name: "GOTS", id: `GOTS-${4000 + i}` }]
  }
}))

export const loadDemoData = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const config = yield* AppConfig
  const existing = yield* sql<{ id: string }>`SELECT id FROM brands WHERE slug = ${DEMO_BRAND_SLUG}`
  if (existing.length > 0) return { created: false }
  const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
  const hashes = yield* Effect.promise(() => Promise.all(demoUsers.map((u) => hashPassword(u.password))))
  yield* sql.withTransaction(
    Effect.gen(function* () {
      const [brand] = yield* sql<{ id: string }>`
        INSERT INTO brands (slug, name, gs1_company_prefix)
        VALUES (${DEMO_BRAND_SLUG}, 'Atelier Demo', ${DEMO_COMPANY_PREFIX}) RETURNING id`
      const userIds: Record<string, string> = {}
      for (const [i, u] of demoUsers.entries()) {
        const key = newSubjectKey()
        const [row] = yield* sql<{ id: string }>`
          INSERT INTO users (email_hash, email_sealed, display_name_sealed, password_hash, role, brand_id, region_code)
          VALUES (${lookupHash(master, u.email)}, ${seal(key, u.email)}, ${seal(key, u.displayName)}, ${hashes[i]!},
                  ${u.role}, ${u.role === "brand" ? brand!.id : null}, ${u.role === "owner" ? "FR" : "US-CA"})
          RETURNING id`
        yield* sql`INSERT INTO subject_keys (subject_id, key) VALUES (${row!.id}, ${wrapSubjectKey(master, key)})`
        userIds[u.role] = row!.id
      }
      for (const [i, g] of demoGarments.entries()) {
        const owner = i === 0 ? userIds.owner! : null
        const [garment] = yield* sql<{ id: string }>`
          INSERT INTO garments (brand_id, gtin, serial, name, facets, owner_user_id)
          VALUES (${brand!.id}, ${g.gtin}, ${g.serial}, ${g.name}, ${JSON.stringify(g.facets)}::jsonb, ${owner})
          RETURNING id`
        if (owner !== null) {
          yield* sql`INSERT INTO ownership_events (garment_id, kind, to_user_id) VALUES (${garment!.id}, 'claimed', ${owner})`
        }
      }
    })
  )
  return { created: true }
})
