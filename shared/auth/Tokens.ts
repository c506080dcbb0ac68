import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as jose from "jose"
import { AppConfig } from "../config/AppConfig.js"
import { Role } from "../domain/Scan.js"

/**
 * Access tokens: JWTs signed by identity and checked by every service. HS256 with JWT_SECRET in
 * development; EdDSA (Ed25519) with JWT_PRIVATE_KEY / JWT_PUBLIC_KEY (PEM) elsewhere, the public
 * key published as a JWKS. Each token names its session (`sid`) so a sign-out revokes it at once.
 */
export const Principal = Schema.Struct({
  userId: Schema.UUID,
  role: Role,
  brandId: Schema.NullOr(Schema.UUID),
  sessionId: Schema.String
})
export type Principal = typeof Principal.Type

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

const Claims = Schema.Struct({
  sub: Schema.UUID,
  role: Role,
  brand_id: Schema.optional(Schema.NullOr(Schema.UUID)),
  sid: Schema.String
})
const decodeClaims = Schema.decodeUnknownEither(Claims)

export interface TokenService {
  readonly algorithm: "HS256" | "EdDSA"
  readonly issue: (p: Principal, ttlSeconds: number) => Effect.Effect<string>
  /** verifies signature, issuer, audience, expiry and claim shapes; session revocation is checked by the caller */
  readonly verify: (token: string) => Effect.Effect<Principal, Unauthorized>
  readonly jwks: Effect.Effect<{ readonly keys: ReadonlyArray<jose.JWK> }>
}

export class Tokens extends Context.Tag("brandme/Tokens")<Tokens, TokenService>() {}

const AUDIENCE = "brandme"

const reasonOf = (e: unknown): string => {
  if (e instanceof jose.errors.JWTExpired) return "token expired"
  if (e instanceof jose.errors.JWSSignatureVerificationFailed) return "token signature is invalid"
  if (e instanceof jose.errors.JWTClaimValidationFailed) return `token claim "${e.claim}" is invalid`
  if (e instanceof jose.errors.JOSEAlgNotAllowed) return "token algorithm is not allowed"
  if (e instanceof jose.errors.JWSInvalid || e instanceof jose.errors.JWTInvalid) return "token is malformed"
  return "token is invalid"
}

export const makeTokens = async (o: {
  readonly issuer: string
  readonly secret: string
  readonly privateKeyPem: string | undefined
  readonly publicKeyPem: string | undefined
}): Promise<TokenService> => {
  if (o.publicKeyPem !== undefined) {
    // a service that only verifies (the catalog gives it JWT_PUBLIC_KEY alone) has no signing key
    const privateKey = o.privateKeyPem === undefined ? undefined : await jose.importPKCS8(o.privateKeyPem, "EdDSA")
    const publicKey = await jose.importSPKI(o.publicKeyPem, "EdDSA", { extractable: true })
    const jwk = await jose.exportJWK(publicKey)
    const kid = await jose.calculateJwkThumbprint(jwk)
    return build("EdDSA", o.issuer, privateKey, publicKey, kid, [{ ...jwk, kid, alg: "EdDSA", use: "sig" }])
  }
  const key = new TextEncoder().encode(o.secret)
  return build("HS256", o.issuer, key, key, "hs256", [])
}

const build = (
  algorithm: "HS256" | "EdDSA",
  issuer: string,
  signKey: jose.CryptoKey | Uint8Array | undefined,
  verifyKey: jose.CryptoKey | Uint8Array,
  kid: string,
  keys: ReadonlyArray<jose.JWK>
): TokenService => ({
  algorithm,
  issue: (p, ttl) =>
    signKey === undefined
      ? Effect.dieMessage("this service only verifies tokens: it has JWT_PUBLIC_KEY and no JWT_PRIVATE_KEY")
      : Effect.promise(() =>
          new jose.SignJWT({ role: p.role, brand_id: p.brandId, sid: p.sessionId })
            .setProtectedHeader({ alg: algorithm, kid })
            .setSubject(p.userId)
            .setIssuer(issuer)
            .setAudience(AUDIENCE)
            .setIssuedAt()
            .setExpirationTime(`${ttl}s`)
            .sign(signKey)
        ),
  verify: (token) =>
    Effect.tryPromise({
      // a token without exp never expires on its own: refused (requiredClaims), whoever signed it
      try: () =>
        jose.jwtVerify(token, verifyKey, {
          issuer,
          audience: AUDIENCE,
          algorithms: [algorithm],
          requiredClaims: ["exp", "sub", "sid"]
        }),
      catch: (e) => new Unauthorized({ message: reasonOf(e) })
    }).pipe(
      Effect.flatMap(({ payload }) => {
        const claims = decodeClaims(payload)
        return claims._tag === "Left"
          ? Effect.fail(new Unauthorized({ message: "token claims are invalid" }))
          : Effect.succeed({
              userId: claims.right.sub,
              role: claims.right.role,
              brandId: claims.right.brand_id ?? null,
              sessionId: claims.right.sid
            })
      })
    ),
  jwks: Effect.succeed({ keys })
})

export const TokensLive = Layer.effect(
  Tokens,
  Effect.flatMap(AppConfig, (c) =>
    Effect.promise(() =>
      makeTokens({
        issuer: c.auth.jwtIssuer,
        secret: Redacted.value(c.auth.jwtSecret),
        privateKeyPem: Option.getOrUndefined(Option.map(c.auth.jwtPrivateKey, Redacted.value)),
        publicKeyPem: Option.getOrUndefined(c.auth.jwtPublicKey)
      })
    )
  )
)

/** `Authorization: Bearer <jwt>` → the token, or a 401 naming what is wrong with the header. */
export const bearerTokenOf = (header: string | undefined): Either.Either<Option.Option<string>, Unauthorized> => {
  if (header === undefined || header === "") return Either.right(Option.none())
  const m = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header.trim())
  return m === null
    ? Either.left(new Unauthorized({ message: 'Authorization header must be "Bearer <token>"' }))
    : Either.right(Option.some(m[1]!))
}
export const bearerToken = (header: string | undefined): Effect.Effect<Option.Option<string>, Unauthorized> =>
  bearerTokenOf(header)

/** Redis key of a live session; identity sets it at sign-in (TTL 24 h) and deletes it on sign-out. */
export const sessionKey = (sessionId: string): string => `session:${sessionId}`
export const SESSION_TTL_SECONDS = 24 * 60 * 60

/**
 * Whether a session key's stored value is this principal's live session: it holds the user id, so a
 * token whose `sid` names another user's session does not pass.
 */
export const sessionHolds = (stored: string | null | undefined, p: Principal): boolean => stored === p.userId
