import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Schema } from "effect"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import {
  checkGtin,
  compressKey,
  type DigitalLinkKey,
  keyPath,
  parseDigitalLinkUri
} from "../../shared/domain/Gs1DigitalLink.js"
import type { GroupHandlers } from "../../shared/http/GroupHandlers.js"
import { CurrentPrincipal } from "../../shared/auth/Middleware.js"
import { chooseLink, linksetOf, passportHref, resolveLinks } from "./LinkResolution.js"
import {
  type DigitalLinkEntry,
  InvalidDigitalLink,
  type LinkCreate,
  LinkConflict,
  LinkNotFound,
  type LinkPatch,
  type LinkPreview,
  type LinksApi,
  LinkType
} from "./LinksApi.js"

const LinkRow = Schema.Struct({
  id: Schema.String,
  brand_id: Schema.String,
  gtin: Schema.String,
  cpv: Schema.NullOr(Schema.String),
  lot: Schema.NullOr(Schema.String),
  serial: Schema.NullOr(Schema.String),
  link_type: LinkType,
  href: Schema.String,
  title: Schema.String,
  lang: Schema.NullOr(Schema.String),
  media_type: Schema.NullOr(Schema.String),
  pass_qualifiers: Schema.Boolean,
  updated_at: Schema.DateFromSelf
})
const rows = Schema.decodeUnknown(Schema.Array(LinkRow))

const toEntry = (r: typeof LinkRow.Type): DigitalLinkEntry => ({
  id: r.id,
  brandId: r.brand_id,
  gtin: r.gtin,
  cpv: r.cpv,
  lot: r.lot,
  serial: r.serial,
  linkType: r.link_type,
  href: r.href,
  title: r.title,
  lang: r.lang,
  mediaType: r.media_type,
  passQualifiers: r.pass_qualifiers,
  updatedAt: r.updated_at.toISOString()
})

const COLUMNS =
  "id::text AS id, brand_id::text AS brand_id, gtin, cpv, lot, serial, link_type, href, title, lang, media_type, pass_qualifiers, updated_at"

const isUniqueViolation = (e: SqlError): boolean =>
  typeof e.cause === "object" && e.cause !== null && "code" in e.cause && e.cause.code === "23505"

const invalid = (problem: string, message: string) => new InvalidDigitalLink({ message, details: { problem } })

/** the brand staff's own brand, or all brands for admins; nobody else manages links */
const scopeOf = (p: Principal) =>
  p.role === "admin"
    ? Effect.succeed(undefined)
    : p.role === "brand" && p.brandId !== null
      ? Effect.succeed(p.brandId)
      : Effect.fail(new Forbidden({ message: "Digital Link links are managed by brand staff and admins" }))

/**
 * The resolver's links (table digital_links, migration 0010). A GTIN belongs to the brand whose garments
 * carry it or whose GS1 company prefix starts it; brand staff link their own brand's GTINs only, admins
 * any GTIN (for the brand its garments name, or the brandId given). Another brand's link answers like a
 * missing one.
 */
export class Links extends Effect.Service<Links>()("brandme/gateway/Links", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    /** every entry of a GTIN (the resolver narrows them to a key: LinkResolution.resolveLinks) */
    const ofGtin = (gtin: string) =>
      sql`SELECT ${sql.literal(COLUMNS)} FROM digital_links WHERE gtin = ${gtin} ORDER BY id`.pipe(
        Effect.flatMap(rows),
        Effect.map((rs) => rs.map(toEntry)),
        Effect.orDie,
        Effect.withSpan("Links.ofGtin")
      )

    /** the brands a GTIN belongs to: its garments' brands, else the brands whose company prefix starts it */
    const brandsOfGtin = (gtin: string) =>
      sql<{ brand_id: string }>`
        SELECT DISTINCT brand_id::text AS brand_id FROM garments WHERE gtin = ${gtin}
        UNION
        SELECT id::text FROM brands
        WHERE gs1_company_prefix IS NOT NULL AND substr(${gtin}, 2) LIKE gs1_company_prefix || '%'
          AND NOT EXISTS (SELECT 1 FROM garments WHERE gtin = ${gtin})`.pipe(
        Effect.map((rs) => rs.map((r) => r.brand_id)),
        Effect.orDie
      )

    /** whether the resolver knows a GTIN at all: a garment carries it or a brand linked it */
    const knownGtin = (gtin: string) =>
      sql<{ known: boolean }>`SELECT EXISTS (SELECT 1 FROM garments WHERE gtin = ${gtin})
        OR EXISTS (SELECT 1 FROM digital_links WHERE gtin = ${gtin}) AS known`.pipe(
        Effect.map((rs) => rs[0]?.known === true),
        Effect.orDie,
        Effect.withSpan("Links.knownGtin")
      )

    const visible = (p: Principal, id: string) =>
      Effect.gen(function* () {
        const brand = yield* scopeOf(p)
        const mine = brand === undefined ? sql`TRUE` : sql`brand_id = ${brand}::uuid`
        const [row] =
          yield* sql`SELECT ${sql.literal(COLUMNS)} FROM digital_links WHERE id = ${id}::uuid AND ${mine}`.pipe(
            Effect.flatMap(rows),
            Effect.orDie
          )
        if (row === undefined) return yield* new LinkNotFound({ message: `no link ${id}` })
        return row
      })

    const list = (
      p: Principal,
      params: { readonly gtin?: string | undefined; readonly brandId?: string | undefined }
    ) =>
      Effect.gen(function* () {
        const brand = yield* scopeOf(p)
        if (brand !== undefined && params.brandId !== undefined && params.brandId !== brand) {
          return yield* new Forbidden({ message: "brand staff see only their own brand's links" })
        }
        const gtin = params.gtin === undefined ? undefined : Either.getOrUndefined(checkGtin(params.gtin))
        const byBrand =
          (brand ?? params.brandId) === undefined ? sql`TRUE` : sql`brand_id = ${brand ?? params.brandId}::uuid`
        const byGtin = params.gtin === undefined ? sql`TRUE` : sql`gtin = ${gtin ?? params.gtin}`
        const found = yield* sql`SELECT ${sql.literal(COLUMNS)} FROM digital_links WHERE ${byBrand} AND ${byGtin}
          ORDER BY gtin, serial NULLS FIRST, lot NULLS FIRST, cpv NULLS FIRST, link_type, lang LIMIT 1000`.pipe(
          Effect.flatMap(rows),
          Effect.orDie
        )
        return { links: found.map(toEntry) }
      }).pipe(Effect.withSpan("Links.list"))

    const create = (p: Principal, input: LinkCreate) =>
      Effect.gen(function* () {
        const scope = yield* scopeOf(p)
        const checked = checkGtin(input.gtin)
        if (Either.isLeft(checked)) return yield* invalid(checked.left.problem, `gtin: ${checked.left.message}`)
        const gtin = checked.right
        const owners = yield* brandsOfGtin(gtin)
        let brandId: string
        if (scope !== undefined) {
          if (input.brandId !== undefined && input.brandId !== scope) {
            return yield* new Forbidden({ message: "brand staff link only their own brand's GTINs" })
          }
          if (!owners.includes(scope)) {
            return yield* new Forbidden({
              message: `GTIN ${gtin} is not your brand's: no garment of your brand carries it and it does not start with your GS1 company prefix`
            })
          }
          brandId = scope
        } else {
          const chosen = input.brandId ?? (owners.length === 1 ? owners[0] : undefined)
          if (chosen === undefined) {
            return yield* new LinkConflict({
              message: `brandId: required — no single brand's garments carry GTIN ${gtin}`
            })
          }
          brandId = chosen
        }
        const [row] = yield* sql`
          INSERT INTO digital_links (brand_id, gtin, cpv, lot, serial, link_type, href, title, lang, media_type, pass_qualifiers)
          VALUES (${brandId}::uuid, ${gtin}, ${input.cpv ?? null}, ${input.lot ?? null}, ${input.serial ?? null},
                  ${input.linkType}, ${input.href}, ${input.title}, ${input.lang ?? null}, ${input.mediaType ?? null},
                  ${input.passQualifiers ?? false})
          RETURNING ${sql.literal(COLUMNS)}`.pipe(
          Effect.catchTag("SqlError", (e) =>
            isUniqueViolation(e)
              ? Effect.fail(
                  new LinkConflict({
                    message: `this entry already has a ${input.linkType} link${input.lang !== undefined ? ` in ${input.lang}` : ""}: update it instead`
                  })
                )
              : Effect.die(e)
          ),
          Effect.flatMap((rs) => Effect.orDie(rows(rs)))
        )
        return toEntry(row!)
      }).pipe(Effect.withSpan("Links.create"))

    const update = (p: Principal, id: string, patch: LinkPatch) =>
      Effect.gen(function* () {
        const current = yield* visible(p, id)
        const [row] = yield* sql`
          UPDATE digital_links SET link_type = ${patch.linkType ?? current.link_type}, href = ${patch.href ?? current.href},
                 title = ${patch.title ?? current.title},
                 lang = ${patch.lang === undefined ? current.lang : patch.lang},
                 media_type = ${patch.mediaType === undefined ? current.media_type : patch.mediaType},
                 pass_qualifiers = ${patch.passQualifiers ?? current.pass_qualifiers}, updated_at = now()
          WHERE id = ${id}::uuid RETURNING ${sql.literal(COLUMNS)}`.pipe(
          Effect.catchTag("SqlError", (e) =>
            isUniqueViolation(e)
              ? Effect.fail(
                  new LinkConflict({ message: "the entry already has a link of that type, language and media type" })
                )
              : Effect.die(e)
          ),
          Effect.flatMap((rs) => Effect.orDie(rows(rs)))
        )
        if (row === undefined) return yield* new LinkNotFound({ message: `no link ${id}` })
        return toEntry(row)
      }).pipe(Effect.withSpan("Links.update"))

    const remove = (p: Principal, id: string) =>
      Effect.gen(function* () {
        yield* visible(p, id)
        yield* sql`DELETE FROM digital_links WHERE id = ${id}::uuid`.pipe(Effect.orDie)
      }).pipe(Effect.withSpan("Links.remove"))

    /** the resolver's answer for a URI, as data: what a brand checks before printing a tag */
    const preview = (p: Principal, uri: string, lang: string | undefined) =>
      Effect.gen(function* () {
        const scope = yield* scopeOf(p)
        const parsed = parseDigitalLinkUri(uri)
        if (Either.isLeft(parsed)) return yield* invalid(parsed.left.problem, `uri: ${parsed.left.message}`)
        const { key } = parsed.right
        if (scope !== undefined && !(yield* brandsOfGtin(key.gtin)).includes(scope)) {
          return yield* new Forbidden({ message: `GTIN ${key.gtin} is not your brand's` })
        }
        const anchor = anchorOf(uri, key)
        const links = resolveLinks(yield* ofGtin(key.gtin), key)
        const chosen = chooseLink(links, "gs1:defaultLink", lang === undefined ? [] : [lang.toLowerCase()])
        const result: LinkPreview = {
          anchor,
          key,
          compressed: compressKey(key),
          links,
          defaultLink: chosen?.target ?? (key.serial !== null ? passportHref(anchor) : null),
          linkset: linksetOf(anchor, links, key.serial !== null)
        }
        return result
      }).pipe(Effect.withSpan("Links.preview"))

    return { ofGtin, knownGtin, list, create, update, remove, preview } as const
  })
}) {}

/** the canonical uncompressed Digital Link of a key on the URI's own origin */
const anchorOf = (uri: string, key: DigitalLinkKey) => {
  const origin = /^(https?:\/\/[^/?#]+)/i.exec(uri)?.[1] ?? ""
  return `${origin}${keyPath(key)}`
}
export const linksHandlers = <E, Provides, R>(h: GroupHandlers<typeof LinksApi, E, Provides, R>) =>
  Effect.map(Links, (links) =>
    h
      .handle("list", ({ urlParams }) => Effect.flatMap(CurrentPrincipal, (p) => links.list(p, urlParams)))
      .handle("create", ({ payload }) => Effect.flatMap(CurrentPrincipal, (p) => links.create(p, payload)))
      .handle("update", ({ path, payload }) =>
        Effect.flatMap(CurrentPrincipal, (p) => links.update(p, path.id, payload))
      )
      .handle("remove", ({ path }) => Effect.flatMap(CurrentPrincipal, (p) => links.remove(p, path.id)))
      .handle("preview", ({ urlParams }) =>
        Effect.flatMap(CurrentPrincipal, (p) => links.preview(p, urlParams.uri, urlParams.lang))
      )
  )
