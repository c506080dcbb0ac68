import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Authentication } from "../../shared/auth/Middleware.js"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"

/**
 * The link types of the GS1 Web Vocabulary a garment's brand may set (https://ref.gs1.org/voc/, class
 * LinkType), written as CURIEs (`gs1:pip`). `gs1:defaultLink` is where a plain scan goes; without one the
 * resolver shows our product passport page.
 */
export const GS1_LINK_TYPES = [
  "defaultLink",
  "defaultLinkMulti",
  "pip",
  "careInstructions",
  "certificationInfo",
  "sustainabilityInfo",
  "productSustainabilityInfo",
  "masterData",
  "traceability",
  "epcis",
  "epil",
  "instructions",
  "quickStartGuide",
  "safetyInfo",
  "consumerHandlingStorageInfo",
  "registerProduct",
  "support",
  "faqs",
  "review",
  "leaveReview",
  "relatedVideo",
  "socialMedia",
  "promotion",
  "recallStatus",
  "hasRetailers",
  "purchaseSuppliesOrAccessories",
  "homepage",
  "locationInfo",
  "verificationService",
  "serviceInfo",
  "eventsInfo",
  "smartLabel"
] as const

export const LinkType = Schema.Literal(...GS1_LINK_TYPES.map((t) => `gs1:${t}` as const)).annotations({
  identifier: "Gs1LinkType",
  description: "a link type of the GS1 Web Vocabulary, as a CURIE (gs1:pip, gs1:careInstructions, gs1:defaultLink, …)"
})

const AiValue = Schema.String.pipe(
  Schema.pattern(/^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/, {
    message: () => "must be 1-20 characters of the GS1 AI encodable set 82"
  })
)
const Gtin = Schema.String.pipe(
  Schema.pattern(/^[0-9]{8}$|^[0-9]{12,14}$/, { message: () => "must be 8, 12, 13 or 14 digits" })
).annotations({ description: "GTIN-8, -12, -13 or -14 (normalised to 14 digits; the check digit is verified)" })
const Href = Schema.String.pipe(
  Schema.maxLength(2048),
  Schema.pattern(/^https?:\/\/[^\s/?#]+[^\s]*$/, { message: () => "must be an http(s) URL" })
)
const Lang = Schema.String.pipe(
  Schema.pattern(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, { message: () => "must be a BCP 47 language tag (en, fr, de-CH)" })
)
const MediaType = Schema.String.pipe(
  Schema.pattern(/^[a-z]+\/[A-Za-z0-9.+-]+$/, { message: () => "must be a media type (text/html, application/pdf)" })
)
const Title = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))

export const DigitalLinkEntry = Schema.Struct({
  id: Schema.UUID,
  brandId: Schema.UUID,
  gtin: Schema.String,
  cpv: Schema.NullOr(Schema.String),
  lot: Schema.NullOr(Schema.String),
  serial: Schema.NullOr(Schema.String),
  linkType: LinkType,
  href: Schema.String,
  title: Schema.String,
  lang: Schema.NullOr(Schema.String),
  mediaType: Schema.NullOr(Schema.String),
  passQualifiers: Schema.Boolean.annotations({
    description: "the target gets the key and its qualifiers as query parameters (?01=…&10=…&21=…)"
  }),
  updatedAt: Schema.String
})
export type DigitalLinkEntry = typeof DigitalLinkEntry.Type

export const LinkCreate = Schema.Struct({
  gtin: Gtin,
  cpv: Schema.optional(AiValue),
  lot: Schema.optional(AiValue),
  serial: Schema.optional(AiValue),
  linkType: LinkType,
  href: Href,
  title: Title,
  lang: Schema.optional(Lang),
  mediaType: Schema.optional(MediaType),
  passQualifiers: Schema.optional(Schema.Boolean),
  brandId: Schema.optional(Schema.UUID.annotations({ description: "admins: the brand the GTIN belongs to" }))
})
export type LinkCreate = typeof LinkCreate.Type

export const LinkPatch = Schema.Struct({
  linkType: Schema.optional(LinkType),
  href: Schema.optional(Href),
  title: Schema.optional(Title),
  lang: Schema.optional(Schema.NullOr(Lang)),
  mediaType: Schema.optional(Schema.NullOr(MediaType)),
  passQualifiers: Schema.optional(Schema.Boolean)
})
export type LinkPatch = typeof LinkPatch.Type

export const LinkListParams = Schema.Struct({
  gtin: Schema.optional(Gtin),
  brandId: Schema.optional(Schema.UUID)
})

/** A link as the resolver would serve it for a URI: where it comes from (gtin, cpv, lot or serial entry). */
export const ResolvedLink = Schema.Struct({
  ...DigitalLinkEntry.fields,
  level: Schema.Literal("gtin", "cpv", "lot", "serial"),
  target: Schema.String.annotations({ description: "the href with the key qualifiers passed on when asked" })
})
export type ResolvedLink = typeof ResolvedLink.Type

export const LinkPreview = Schema.Struct({
  anchor: Schema.String,
  key: Schema.Struct({
    gtin: Schema.String,
    cpv: Schema.NullOr(Schema.String),
    lot: Schema.NullOr(Schema.String),
    serial: Schema.NullOr(Schema.String)
  }),
  compressed: Schema.String.annotations({ description: "the compressed form of the same Digital Link" }),
  links: Schema.Array(ResolvedLink),
  defaultLink: Schema.NullOr(Schema.String).annotations({
    description: "where a plain scan goes for the language asked (null: the hosted product passport page)"
  }),
  linkset: Schema.Unknown.annotations({ description: "the RFC 9264 linkset the resolver serves for this URI" })
})
export type LinkPreview = typeof LinkPreview.Type

export class LinkNotFound extends Schema.TaggedError<LinkNotFound>()(
  "LinkNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class LinkConflict extends Schema.TaggedError<LinkConflict>()(
  "LinkConflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class InvalidDigitalLink extends Schema.TaggedError<InvalidDigitalLink>()(
  "InvalidDigitalLink",
  { message: Schema.String, details: Schema.Struct({ problem: Schema.String }) },
  HttpApiSchema.annotations({ status: 400 })
) {}

const LinkId = Schema.Struct({ id: Schema.UUID })

export const LinksApi = HttpApiGroup.make("links")
  .add(
    HttpApiEndpoint.get("list", "/v1/links")
      .setUrlParams(LinkListParams)
      .addSuccess(Schema.Struct({ links: Schema.Array(DigitalLinkEntry) }))
      .annotate(OpenApi.Description, "brand staff see their brand's links, admins all (brandId, gtin filter)")
  )
  .add(
    HttpApiEndpoint.post("create", "/v1/links")
      .setPayload(LinkCreate)
      .addSuccess(DigitalLinkEntry, { status: 201 })
      .addError(LinkConflict)
      .addError(InvalidDigitalLink)
      .annotate(
        OpenApi.Description,
        "a link for a GTIN, or narrowed to a CPV, lot and/or serial; brand staff link their own brand's GTINs only"
      )
  )
  .add(
    HttpApiEndpoint.patch("update", "/v1/links/:id")
      .setPath(LinkId)
      .setPayload(LinkPatch)
      .addSuccess(DigitalLinkEntry)
      .addError(LinkConflict)
  )
  .add(HttpApiEndpoint.del("remove", "/v1/links/:id").setPath(LinkId).addSuccess(HttpApiSchema.NoContent))
  .add(
    HttpApiEndpoint.get("preview", "/v1/links/preview")
      .setUrlParams(
        Schema.Struct({
          uri: Schema.String.pipe(Schema.maxLength(2048)).annotations({ description: "a GS1 Digital Link URI" }),
          lang: Schema.optional(Lang)
        })
      )
      .addSuccess(LinkPreview)
      .addError(InvalidDigitalLink)
      .annotate(OpenApi.Description, "how the resolver answers a Digital Link URI: its links, default and linkset")
  )
  .addError(LinkNotFound)
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .annotate(OpenApi.Description, "GS1 Digital Link resolver links of a brand's GTINs (docs/resolver.md)")
