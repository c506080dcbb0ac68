import { type HopRequest, trustedClientHop } from "../../shared/http/ClientHop.js"
import { RegionCode } from "../../shared/domain/Scan.js"
import { Schema } from "effect"

const isRegion = Schema.is(RegionCode)

/** A geo header's value (`FR`, `us-ca`, GKE's `{client_region}`); anything unusable (XX, T1 = Tor, junk) is unknown. */
export const headerRegion = (h: string | ReadonlyArray<string> | undefined): string | undefined => {
  const v = (typeof h === "string" ? h : h?.[0])?.trim().toUpperCase()
  return v !== undefined && isRegion(v) && v !== "XX" && v !== "T1" && v !== "ZZ" ? v : undefined
}

/**
 * The scanner's region as our own ingress saw it: the geo header named by GEO_REGION_HEADER (lower
 * case), believed only when the request came through our trusted proxy hops (the same rule as the
 * client address: shared/http/ClientHop). From anywhere else the header is the client's own claim and
 * is ignored here; the client's `context.region` is its claim, which may only make a decision stricter.
 */
export const trustedGeoRegion = (req: HopRequest, hops: number, headerName: string): string | undefined =>
  trustedClientHop(req, hops).viaTrustedProxy ? headerRegion(req.headers[headerName]) : undefined
