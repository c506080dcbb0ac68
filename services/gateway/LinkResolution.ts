import type { DigitalLinkKey } from "../../shared/domain/Gs1DigitalLink.js"
import type { DigitalLinkEntry, ResolvedLink } from "./LinksApi.js"

/**
 * What the resolver serves for a key, from the brand's link entries (pure; Resolver.ts and the preview
 * endpoint both use it). An entry applies when each qualifier it names equals the URI's; of the entries
 * that apply, the most specific one of each link type wins (serial › lot › CPV › GTIN), so a serial
 * without its own entry inherits its GTIN's links and a serial override replaces them, type by type.
 */

export const GS1_VOC = "https://gs1.org/voc/"
/** our own link type: the hosted product passport page (declared in /.well-known/gs1resolver) */
export const PASSPORT_LINK_TYPE = "brandme:passport"
export const BRANDME_VOC = "https://id.brandme.io/voc/"
export const PASSPORT_LANGUAGES = ["en", "fr", "de"] as const

const levelOf = (e: DigitalLinkEntry): ResolvedLink["level"] =>
  e.serial !== null ? "serial" : e.lot !== null ? "lot" : e.cpv !== null ? "cpv" : "gtin"
const specificity = (e: DigitalLinkEntry) =>
  (e.serial !== null ? 4 : 0) + (e.lot !== null ? 2 : 0) + (e.cpv !== null ? 1 : 0)

export const applies = (e: DigitalLinkEntry, key: DigitalLinkKey): boolean =>
  e.gtin === key.gtin &&
  (e.cpv === null || e.cpv === key.cpv) &&
  (e.lot === null || e.lot === key.lot) &&
  (e.serial === null || e.serial === key.serial)

/** the target of a link: its href, with the key and its qualifiers as query parameters when the entry asks */
export const targetOf = (e: DigitalLinkEntry, key: DigitalLinkKey): string => {
  if (!e.passQualifiers) return e.href
  const q = new URLSearchParams()
  q.set("01", key.gtin)
  if (key.cpv !== null) q.set("22", key.cpv)
  if (key.lot !== null) q.set("10", key.lot)
  if (key.serial !== null) q.set("21", key.serial)
  const [base, fragment] = e.href.split("#", 2)
  return `${base}${base!.includes("?") ? "&" : "?"}${q.toString()}${fragment !== undefined ? `#${fragment}` : ""}`
}

/** The links served for a key: per link type, those of the most specific entry that applies. */
export const resolveLinks = (entries: ReadonlyArray<DigitalLinkEntry>, key: DigitalLinkKey): Array<ResolvedLink> => {
  const best = new Map<string, number>()
  const applying = entries.filter((e) => applies(e, key))
  for (const e of applying) best.set(e.linkType, Math.max(best.get(e.linkType) ?? -1, specificity(e)))
  return applying
    .filter((e) => specificity(e) === best.get(e.linkType))
    .map((e) => ({ ...e, level: levelOf(e), target: targetOf(e, key) }))
    .sort((a, b) =>
      a.linkType < b.linkType ? -1 : a.linkType > b.linkType ? 1 : (a.lang ?? "").localeCompare(b.lang ?? "")
    )
}

/** `Accept-Language` as language ranges by preference (q=0 dropped), lower case. */
export const acceptedLanguages = (header: string | undefined): Array<string> =>
  (header ?? "")
    .split(",")
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";")
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i }
    })
    .filter((l) => l.tag !== "" && l.q > 0 && Number.isFinite(l.q))
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((l) => l.tag)

/**
 * The link of a type for the languages asked: an exact language match first, then the same primary
 * language, in the order asked; else one without a language, else the first (GS1: the default serves
 * everyone). Undefined when there is no link of that type.
 */
export const chooseLink = <L extends { readonly linkType: string; readonly lang: string | null }>(
  links: ReadonlyArray<L>,
  linkType: string,
  languages: ReadonlyArray<string>
): L | undefined => {
  const ofType = links.filter((l) => l.linkType === linkType)
  for (const asked of languages) {
    const exact = ofType.find((l) => l.lang?.toLowerCase() === asked)
    if (exact !== undefined) return exact
    const primary = asked.split("-")[0]
    const near = ofType.find((l) => l.lang?.toLowerCase().split("-")[0] === primary)
    if (near !== undefined) return near
  }
  return ofType.find((l) => l.lang === null) ?? ofType[0]
}

/** The passport language for the languages asked (en, fr, de; English otherwise). */
export const passportLanguage = (languages: ReadonlyArray<string>): (typeof PASSPORT_LANGUAGES)[number] => {
  for (const l of languages) {
    const primary = l.split("-")[0]
    const hit = PASSPORT_LANGUAGES.find((p) => p === primary)
    if (hit !== undefined) return hit
  }
  return "en"
}

/** a link type CURIE (gs1:pip) as the relation URI linksets carry */
export const relationOf = (linkType: string): string =>
  linkType.startsWith("gs1:")
    ? `${GS1_VOC}${linkType.slice(4)}`
    : linkType === PASSPORT_LINK_TYPE
      ? `${BRANDME_VOC}passport`
      : linkType

interface TargetAttributes {
  href: string
  title: string
  hreflang?: Array<string>
  type?: string
}

/** the hosted passport page of an item: at its own Digital Link */
export const passportHref = (anchor: string) => `${anchor}?linkType=${PASSPORT_LINK_TYPE}`

/**
 * The RFC 9264 linkset (application/linkset+json) as GS1 resolvers serve it: one context object anchored
 * at the Digital Link, each relation a GS1 Web Vocabulary URI with its target objects. Items with a
 * serial carry the hosted passport page; it is the default link when the brand set none.
 */
export const linksetOf = (anchor: string, links: ReadonlyArray<ResolvedLink>, item: boolean) => {
  const context: Record<string, string | Array<TargetAttributes>> = { anchor }
  const add = (linkType: string, t: TargetAttributes) => {
    const rel = relationOf(linkType)
    const list = context[rel]
    if (Array.isArray(list)) list.push(t)
    else context[rel] = [t]
  }
  for (const l of links) {
    add(l.linkType, {
      href: l.target,
      title: l.title,
      ...(l.lang !== null ? { hreflang: [l.lang] } : {}),
      ...(l.mediaType !== null ? { type: l.mediaType } : {})
    })
  }
  if (item) {
    const passport = {
      href: passportHref(anchor),
      title: "Product passport",
      hreflang: [...PASSPORT_LANGUAGES],
      type: "text/html"
    }
    add(PASSPORT_LINK_TYPE, passport)
    if (!links.some((l) => l.linkType === "gs1:defaultLink")) add("gs1:defaultLink", passport)
  }
  return { linkset: [context] }
}

const quote = (s: string) => `"${s.replace(/[\\"]/g, "\\$&").replace(/[\r\n]/g, " ")}"`
// header values are Latin-1: a title beyond ASCII goes as title* (RFC 8187), a URL percent-encoded
const ASCII = /^[\x20-\x7e]*$/
const titleParam = (t: string) => (ASCII.test(t) ? `title=${quote(t)}` : `title*=UTF-8''${encodeURIComponent(t)}`)
const uriRef = (u: string) => (ASCII.test(u) ? u : encodeURI(u)).replace(/[<>]/g, encodeURIComponent)

/**
 * The `Link` header of every resolver answer (RFC 8288): the linkset itself, then each link (GS1's
 * resolvers list them all; capped so the header stays well under common proxy limits).
 */
export const linkHeader = (anchor: string, linkset: ReturnType<typeof linksetOf>): string => {
  const parts = [`<${uriRef(anchor)}?linkType=all>; rel="linkset"; type="application/linkset+json"`]
  const context = linkset.linkset[0]!
  for (const [rel, targets] of Object.entries(context)) {
    if (!Array.isArray(targets)) continue
    for (const t of targets) {
      const lang = t.hreflang?.map((l) => `; hreflang=${quote(l)}`).join("") ?? ""
      parts.push(
        `<${uriRef(t.href)}>; rel=${quote(rel)}; ${titleParam(t.title)}${lang}${t.type !== undefined ? `; type=${quote(t.type)}` : ""}`
      )
    }
  }
  let out = ""
  for (const p of parts) {
    if (out.length + p.length > 6000) break
    out = out === "" ? p : `${out}, ${p}`
  }
  return out
}
