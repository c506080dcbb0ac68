import { createHash } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import type { FacetGroup } from "../../shared/domain/Scan.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { AuditStoreError, type EntryView } from "../compliance/Api.js"
import { makeProofReader, makeRunner, NodeCache } from "../compliance/Port.js"
import type { ScanResult } from "./scans/Api.js"
import type { ResolvedLink } from "./LinksApi.js"
import type { PASSPORT_LANGUAGES } from "./LinkResolution.js"

/**
 * The public product passport: one server-rendered page per item at its Digital Link, readable without
 * JavaScript and small (a phone on a weak network): the facets the viewer may see under the scan's
 * decision, what is withheld and why, the brand's links, the Digital Product Passport's basic information
 * (ESPR Art. 10: unique product identifier, GTIN, brand and manufacturer, materials and shares, origin,
 * care and end of life, certifications) and how to verify the record in the audit log. Its one inline
 * stylesheet is allowed by hash: the page's CSP allows nothing else.
 */
type Lang = (typeof PASSPORT_LANGUAGES)[number]

const TEXT = {
  en: {
    title: "Product passport",
    identity: "Identification",
    uid: "Unique product identifier",
    gtin: "GTIN",
    serial: "Serial number",
    batch: "Batch",
    brand: "Brand",
    manufacturer: "Manufacturer",
    materials: "Materials",
    origin: "Origin",
    supply_chain: "Supply chain",
    care: "Care and end of life",
    certifications: "Certifications",
    ownership_history: "Ownership history",
    owner_identity: "Owner",
    withheld: "Withheld",
    withheldIntro: "These details are not shown to you under the privacy rules that apply to this scan:",
    links: "From the brand",
    verify: "Verify this record",
    verifyIntro:
      "Every scan is written to a tamper-evident audit log (RFC 9162 Merkle tree) whose checkpoints are anchored on Cardano.",
    thisScan: "This scan",
    entryKey: "Audit entry key",
    latestEntry: "Latest audited scan of this item",
    leaf: "Leaf",
    treeSize: "Tree size",
    root: "Root hash",
    proof: "Inclusion proof",
    anchored: "Checkpoint anchored on Cardano",
    notAnchored: "Checkpoint not yet anchored",
    noEntry: "No scan of this item is in the audit log yet; this one is being recorded.",
    verifier: "Verify it in the console's verifier",
    regime: "Privacy regime",
    none: "none recorded",
    facility: "facility",
    yes: "yes",
    no: "no"
  },
  fr: {
    title: "Passeport produit",
    identity: "Identification",
    uid: "Identifiant unique du produit",
    gtin: "GTIN",
    serial: "Numéro de série",
    batch: "Lot",
    brand: "Marque",
    manufacturer: "Fabricant",
    materials: "Matières",
    origin: "Origine",
    supply_chain: "Chaîne d'approvisionnement",
    care: "Entretien et fin de vie",
    certifications: "Certifications",
    ownership_history: "Historique de propriété",
    owner_identity: "Propriétaire",
    withheld: "Informations masquées",
    withheldIntro: "Ces informations ne vous sont pas montrées selon les règles de confidentialité de ce scan :",
    links: "De la marque",
    verify: "Vérifier cet enregistrement",
    verifyIntro:
      "Chaque scan est inscrit dans un journal d'audit infalsifiable (arbre de Merkle RFC 9162) dont les points de contrôle sont ancrés sur Cardano.",
    thisScan: "Ce scan",
    entryKey: "Clé de l'entrée d'audit",
    latestEntry: "Dernier scan audité de cet article",
    leaf: "Feuille",
    treeSize: "Taille de l'arbre",
    root: "Racine",
    proof: "Preuve d'inclusion",
    anchored: "Point de contrôle ancré sur Cardano",
    notAnchored: "Point de contrôle pas encore ancré",
    noEntry: "Aucun scan de cet article n'est encore dans le journal d'audit ; celui-ci est en cours d'enregistrement.",
    verifier: "Le vérifier dans le vérificateur de la console",
    regime: "Régime de confidentialité",
    none: "aucune",
    facility: "site",
    yes: "oui",
    no: "non"
  },
  de: {
    title: "Produktpass",
    identity: "Identifikation",
    uid: "Eindeutige Produktkennung",
    gtin: "GTIN",
    serial: "Seriennummer",
    batch: "Charge",
    brand: "Marke",
    manufacturer: "Hersteller",
    materials: "Materialien",
    origin: "Herkunft",
    supply_chain: "Lieferkette",
    care: "Pflege und Lebensende",
    certifications: "Zertifizierungen",
    ownership_history: "Eigentumsverlauf",
    owner_identity: "Eigentümer",
    withheld: "Zurückgehalten",
    withheldIntro: "Diese Angaben werden Ihnen nach den Datenschutzregeln dieses Scans nicht gezeigt:",
    links: "Von der Marke",
    verify: "Diesen Eintrag prüfen",
    verifyIntro:
      "Jeder Scan wird in ein manipulationssicheres Audit-Log (Merkle-Baum nach RFC 9162) geschrieben, dessen Checkpoints auf Cardano verankert sind.",
    thisScan: "Dieser Scan",
    entryKey: "Schlüssel des Audit-Eintrags",
    latestEntry: "Letzter geprüfter Scan dieses Artikels",
    leaf: "Blatt",
    treeSize: "Baumgröße",
    root: "Wurzel-Hash",
    proof: "Inklusionsbeweis",
    anchored: "Checkpoint auf Cardano verankert",
    notAnchored: "Checkpoint noch nicht verankert",
    noEntry: "Noch kein Scan dieses Artikels steht im Audit-Log; dieser wird gerade aufgezeichnet.",
    verifier: "Im Prüfwerkzeug der Konsole prüfen",
    regime: "Datenschutzregime",
    none: "keine",
    facility: "Standort",
    yes: "ja",
    no: "nein"
  }
} as const satisfies Record<Lang, Record<string, string>>

const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}" +
  "main{max-width:40rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem;margin:.5rem 0}" +
  "h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #ccc}" +
  "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}" +
  "ul{padding-left:1.25rem}.withheld li{color:#5a3d00}code{font-size:.85rem;overflow-wrap:anywhere}" +
  "a{color:#0645ad}.muted{color:#555}"
const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64")
/** the passport page's own policy: its stylesheet by hash, nothing to load, no script, no framing */
export const PASSPORT_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c)

export interface AuditProof {
  readonly entry: EntryView
  readonly anchored: boolean
}

export interface PassportContext {
  readonly brandName: string | null
  /** the item's latest audited scan with its inclusion proof against the latest checkpoint */
  readonly audit: AuditProof | null
  readonly verifierUrl: string
}

export interface PassportInput extends PassportContext {
  readonly scan: ScanResult
  readonly anchor: string
  readonly lang: Lang
  readonly links: ReadonlyArray<ResolvedLink>
}

const row = (k: string, v: string) => `<dt>${esc(k)}</dt><dd>${v}</dd>`

/** The page (and its CSP). Facets absent from the scan's answer are never rendered. */
export const renderPassport = (p: PassportInput): { readonly html: string; readonly csp: string } => {
  const t = TEXT[p.lang]
  const { garment, facets, decision } = p.scan
  const allowed = new Set<FacetGroup>(decision.allowed.map((a) => a.group))
  const section = (group: FacetGroup, body: string | undefined) =>
    allowed.has(group) && body !== undefined ? `<section id="${group}"><h2>${esc(t[group])}</h2>${body}</section>` : ""
  const materials =
    facets.materials === undefined
      ? undefined
      : `<ul>${facets.materials.map((m) => `<li>${esc(m.fibre)} — ${m.percent} %</li>`).join("")}</ul>`
  const origin =
    facets.origin === undefined
      ? undefined
      : `<p>${esc(facets.origin.country)}${facets.origin.facility !== undefined ? ` (${esc(t.facility)}: ${esc(facets.origin.facility)})` : ""}</p>`
  const supply =
    facets.supply_chain === undefined
      ? undefined
      : `<ol>${facets.supply_chain.map((s) => `<li>${esc(s.step)} — ${esc(s.country)}${s.at !== undefined ? `, ${esc(s.at)}` : ""}</li>`).join("")}</ol>`
  const care =
    facets.care === undefined
      ? undefined
      : `<dl>${Object.entries(facets.care)
          .map(([k, v]) => row(k, esc(v)))
          .join("")}</dl>`
  const certs =
    facets.certifications === undefined
      ? undefined
      : `<ul>${facets.certifications.map((c) => `<li>${esc(c.name)}${c.id !== undefined ? ` <span class="muted">${esc(c.id)}</span>` : ""}</li>`).join("")}</ul>`
  const history =
    facets.ownership_history === undefined
      ? undefined
      : facets.ownership_history.length === 0
        ? `<p class="muted">${esc(t.none)}</p>`
        : `<ol>${facets.ownership_history.map((h) => `<li>${esc(h.kind)} — <time>${esc(h.at)}</time></li>`).join("")}</ol>`
  const owner =
    facets.owner_identity === undefined
      ? undefined
      : `<p>${esc(facets.owner_identity.displayName ?? facets.owner_identity.userId)}</p>`
  const withheld = decision.denied
  const links = p.links
  const audit = p.audit
  const html = `<!doctype html>
<html lang="${p.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(garment.name)} — ${esc(t.title)}</title><style>${STYLE}</style></head>
<body><main>
<p class="muted">${esc(t.title)}</p><h1>${esc(garment.name)}</h1>
<section id="identity"><h2>${esc(t.identity)}</h2><dl>
${row(t.uid, `<code>${esc(p.anchor)}</code>`)}${row(t.gtin, esc(garment.gtin))}${row(t.serial, esc(garment.serial))}${garment.batch !== null ? row(t.batch, esc(garment.batch)) : ""}
${row(t.brand, esc(p.brandName ?? garment.brandId))}${row(t.manufacturer, esc(p.brandName ?? garment.brandId))}${row(t.regime, esc(decision.regime))}
</dl></section>
${section("materials", materials)}${section("origin", origin)}${section("supply_chain", supply)}${section("care", care)}${section("certifications", certs)}${section("ownership_history", history)}${section("owner_identity", owner)}
${withheld.length === 0 ? "" : `<section id="withheld" class="withheld"><h2>${esc(t.withheld)}</h2><p>${esc(t.withheldIntro)}</p><ul>${withheld.map((d) => `<li data-group="${d.group}"><strong>${esc(t[d.group])}</strong>: ${esc(d.reason)}</li>`).join("")}</ul></section>`}
${links.length === 0 ? "" : `<section id="links"><h2>${esc(t.links)}</h2><ul>${links.map((l) => `<li><a href="${esc(l.target)}"${l.lang !== null ? ` hreflang="${esc(l.lang)}"` : ""}>${esc(l.title)}</a></li>`).join("")}</ul></section>`}
<section id="verify"><h2>${esc(t.verify)}</h2><p>${esc(t.verifyIntro)}</p><dl>
${row(t.thisScan, `<code>${esc(p.scan.scanId)}</code>`)}${row(t.entryKey, `<code>scan-${esc(p.scan.scanId)}</code>`)}</dl>
${
  audit === null
    ? `<p class="muted">${esc(t.noEntry)}</p>`
    : `<h3>${esc(t.latestEntry)}</h3><dl>${row(t.leaf, `${audit.entry.index} <code>${audit.entry.leafHash}</code>`)}${row(t.treeSize, String(audit.entry.treeSize))}${row(t.root, `<code>${audit.entry.rootHash}</code>`)}${row(t.proof, `<ol>${audit.entry.inclusionProof.map((h) => `<li><code>${h}</code></li>`).join("")}</ol>`)}${row("Cardano", esc(audit.anchored ? t.anchored : t.notAnchored))}</dl>`
}
<p><a href="${esc(audit === null ? p.verifierUrl : `${p.verifierUrl}#index=${audit.entry.index}`)}">${esc(t.verifier)}</a></p></section>
</main></body></html>`
  return { html, csp: PASSPORT_CSP }
}

/**
 * What the page needs beyond the scan: the brand's name and the item's latest audited scan with its
 * inclusion proof (read through compliance's proof reader on the same database: one connection).
 */
export class Passports extends Effect.Service<Passports>()("brandme/gateway/Passports", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const config = yield* AppConfig
    const reader = makeProofReader(yield* makeRunner(1), new NodeCache(6, 20_000), (_size, id) =>
      Effect.fail(
        new AuditStoreError({ operation: "proof", message: `stored node ${id.level}:${id.index} is missing` })
      )
    )
    const consoleOrigin =
      config.http.corsOrigins[0] ?? `http://localhost:${Services.console.port + config.http.portOffset}`
    const verifierUrl = `${consoleOrigin}/auditor`

    const latestAudited = (garmentId: string) =>
      sql<{ leaf_index: string }>`
        SELECT l.leaf_index::text AS leaf_index FROM scan_events s
        JOIN audit_leaves l ON l.idempotency_key = 'scan-' || s.id::text
        WHERE s.garment_id = ${garmentId}::uuid ORDER BY s.scanned_at DESC LIMIT 1`.pipe(
        Effect.map((rs) => Option.fromNullable(rs[0]).pipe(Option.map((r) => Number(r.leaf_index)))),
        Effect.orDie
      )

    const anchoredAt = (treeSize: number) =>
      sql<{
        anchored: boolean
      }>`SELECT EXISTS (SELECT 1 FROM chain_transactions WHERE tree_size >= ${treeSize}) AS anchored`.pipe(
        Effect.map((rs) => rs[0]?.anchored === true),
        Effect.orElseSucceed(() => false)
      )

    const context = (scan: ScanResult, _anchor: string) =>
      Effect.gen(function* () {
        const [brand] = yield* sql<{
          name: string
        }>`SELECT name FROM brands WHERE id = ${scan.garment.brandId}::uuid`.pipe(Effect.orDie)
        const index = yield* latestAudited(scan.garment.id)
        // no entry or no checkpoint yet: the page says so; the proof is a courtesy, never a reason to fail
        const entry = Option.isNone(index)
          ? Option.none<EntryView>()
          : yield* reader.entryView(index.value).pipe(Effect.option)
        const audit = Option.isNone(entry)
          ? null
          : { entry: entry.value, anchored: yield* anchoredAt(entry.value.treeSize) }
        const out: PassportContext = { brandName: brand?.name ?? null, audit, verifierUrl }
        return out
      }).pipe(Effect.withSpan("Passports.context"))

    return { context } as const
  })
}) {}
