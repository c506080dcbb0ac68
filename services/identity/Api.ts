import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { Forbidden, Unauthorized } from "../../shared/auth/Tokens.js"
import { RegionCode } from "../../shared/domain/Scan.js"
import { HealthApi } from "../../shared/http/Health.js"
import { Cursor, PageLimit } from "../../shared/http/Paging.js"
import { RateLimited } from "../../shared/http/RateLimit.js"
import { Authentication, OptionalAuthentication } from "../../shared/auth/Middleware.js"
import { Services } from "../../shared/ServiceCatalog.js"
import { Conflict, EmailTaken, Expired, InvalidCredentials, InvalidRequest, NotFound, WeakPassword } from "./Errors.js"
import { exportRowSchemas } from "./PrivacyRepo.js"
import { UserRole } from "./Repo.js"

/**
 * The identity service's HTTP contract. Each group is public API that the gateway may mount too
 * (`HttpApiBuilder.group(GatewayApi, "auth", authHandlers)`); handlers live in Handlers.ts.
 * Authenticated endpoints take `Authorization: Bearer <jwt>`.
 */
const Email = Schema.Trim.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: () => "must be an email address" })
)
const IdPath = Schema.Struct({ id: Schema.UUID })
const NoContent = HttpApiSchema.NoContent

// auth --------------------------------------------------------------------------------------------
export const LoginRequest = Schema.Struct({ email: Email, password: Schema.String.pipe(Schema.maxLength(1024)) })
export const SessionUser = Schema.Struct({ id: Schema.UUID, role: UserRole, brandId: Schema.NullOr(Schema.UUID) })
export const LoginResponse = Schema.Struct({
  token: Schema.String,
  tokenType: Schema.Literal("Bearer"),
  expiresIn: Schema.Number,
  sessionId: Schema.UUID,
  user: SessionUser
})
export const Jwks = Schema.Struct({
  keys: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

export const AuthApi = HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("login", "/v1/auth/login")
      .setPayload(LoginRequest)
      .addSuccess(LoginResponse)
      .addError(InvalidCredentials)
      .addError(RateLimited)
  )
  .add(
    HttpApiEndpoint.post("logout", "/v1/auth/logout")
      .middleware(Authentication)
      .addSuccess(NoContent)
      .addError(Unauthorized)
  )
  .add(HttpApiEndpoint.get("jwks", "/.well-known/jwks.json").addSuccess(Jwks))
  .annotate(OpenApi.Description, "console sign-in, sign-out and the token verification keys")

// users -------------------------------------------------------------------------------------------
export const RegisterRequest = Schema.Struct({
  email: Email,
  password: Schema.String.pipe(Schema.minLength(10), Schema.maxLength(200)),
  displayName: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(120)),
  role: Schema.optional(UserRole),
  brandId: Schema.optional(Schema.UUID),
  regionCode: Schema.optional(RegionCode).annotations({
    description: "your jurisdiction (where you live, e.g. FR or US-CA): the privacy rules of it protect your data"
  })
})
export const RegisteredUser = SessionUser
/**
 * The answer to a self-registration, the same whether the email was new or already had an account
 * (no way to learn who has one): sign in to continue.
 */
export const RegistrationAccepted = Schema.Struct({
  status: Schema.Literal("accepted"),
  message: Schema.String
})

export const JurisdictionChange = Schema.Struct({
  jurisdiction: Schema.NullOr(RegionCode).annotations({
    description: "where you live (FR, US-CA, …); null = not given (the strictest regime protects your data)"
  })
})
export const JurisdictionChanged = Schema.Struct({
  userId: Schema.UUID,
  jurisdiction: Schema.NullOr(Schema.String),
  previous: Schema.NullOr(Schema.String),
  changedAt: Schema.Date
})

export const UsersApi = HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("register", "/v1/users")
      .middleware(OptionalAuthentication)
      .setPayload(RegisterRequest)
      .addSuccess(RegisteredUser, { status: 201 })
      .addSuccess(RegistrationAccepted, { status: 202 })
      .addError(EmailTaken)
      .addError(WeakPassword)
      .addError(InvalidRequest)
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(RateLimited)
  )
  .add(
    HttpApiEndpoint.put("setJurisdiction", "/v1/users/me/jurisdiction")
      .middleware(Authentication)
      .setPayload(JurisdictionChange)
      .addSuccess(JurisdictionChanged)
      .addError(NotFound)
      .addError(Unauthorized)
      .annotate(OpenApi.Description, "change your jurisdiction (account settings); the change is audited")
  )
  .annotate(
    OpenApi.Description,
    "owners sign up themselves (202, the same answer whether or not the email already had an account: sign in " +
      "to continue); an admin creates brand, auditor and admin accounts (201 with the id, 409 EmailTaken); " +
      "each sets their jurisdiction"
  )

// devices -----------------------------------------------------------------------------------------
export const CreateDeviceRequest = Schema.Struct({ name: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(100)) })
export const CreatedDevice = Schema.Struct({
  id: Schema.UUID,
  name: Schema.String,
  prefix: Schema.String,
  /** shown once; only its hash is stored */
  apiKey: Schema.String,
  brandId: Schema.NullOr(Schema.UUID),
  createdAt: Schema.Date
})

export const DevicesApi = HttpApiGroup.make("devices")
  .add(
    HttpApiEndpoint.post("create", "/v1/devices")
      .setPayload(CreateDeviceRequest)
      .addSuccess(CreatedDevice, { status: 201 })
      .addError(Unauthorized)
  )
  .add(
    HttpApiEndpoint.del("revoke", "/v1/devices/:id")
      .setPath(IdPath)
      .addSuccess(NoContent)
      .addError(NotFound)
      .addError(Unauthorized)
  )
  .middleware(Authentication)
  .annotate(OpenApi.Description, "device API keys (bm_<prefix>_<secret>) for scanners and apps")

// ownership ---------------------------------------------------------------------------------------
export const ClaimCodeRequest = Schema.Struct({
  expiresInDays: Schema.optional(Schema.Int.pipe(Schema.between(1, 3650)))
})
export const IssuedClaimCode = Schema.Struct({ garmentId: Schema.UUID, code: Schema.String, expiresAt: Schema.Date })
export const ClaimRequest = Schema.Struct({ code: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)) })
export const Claimed = Schema.Struct({ garmentId: Schema.UUID, ownerUserId: Schema.UUID })
export const TransferRequest = Schema.Struct({ toUserEmail: Email })
export const Transfer = Schema.Struct({
  id: Schema.UUID,
  garmentId: Schema.UUID,
  fromUserId: Schema.NullOr(Schema.UUID),
  toUserId: Schema.NullOr(Schema.UUID),
  status: Schema.Literal("pending", "accepted", "cancelled"),
  createdAt: Schema.Date,
  expiresAt: Schema.Date,
  decidedAt: Schema.NullOr(Schema.Date)
})

export const OwnershipApi = HttpApiGroup.make("ownership")
  .add(
    HttpApiEndpoint.post("issueClaimCode", "/v1/garments/:id/claim-codes")
      .setPath(IdPath)
      .setPayload(ClaimCodeRequest)
      .addSuccess(IssuedClaimCode, { status: 201 })
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(InvalidRequest)
  )
  .add(
    HttpApiEndpoint.post("claim", "/v1/claims")
      .setPayload(ClaimRequest)
      .addSuccess(Claimed)
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(Conflict)
      .addError(Expired)
  )
  .add(
    HttpApiEndpoint.post("offerTransfer", "/v1/garments/:id/transfers")
      .setPath(IdPath)
      .setPayload(TransferRequest)
      .addSuccess(Transfer, { status: 201 })
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(Conflict)
      .addError(InvalidRequest)
  )
  .add(
    HttpApiEndpoint.post("acceptTransfer", "/v1/transfers/:id/accept")
      .setPath(IdPath)
      .addSuccess(Transfer)
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(Conflict)
      .addError(Expired)
  )
  .add(
    HttpApiEndpoint.post("cancelTransfer", "/v1/transfers/:id/cancel")
      .setPath(IdPath)
      .addSuccess(Transfer)
      .addError(NotFound)
      .addError(Unauthorized)
      .addError(Forbidden)
      .addError(Conflict)
  )
  .middleware(Authentication)
  .annotate(OpenApi.Description, "claim codes, claims and ownership transfers")

// privacy -----------------------------------------------------------------------------------------
const rows = exportRowSchemas(Schema.Date)
export const PersonalDataExport = Schema.Struct({
  exportedAt: Schema.Date,
  profile: Schema.Struct({
    id: Schema.UUID,
    email: Schema.NullOr(Schema.String),
    displayName: Schema.NullOr(Schema.String),
    role: UserRole,
    brandId: Schema.NullOr(Schema.UUID),
    regionCode: Schema.NullOr(Schema.String),
    createdAt: Schema.Date
  }),
  devices: Schema.Array(rows.devices),
  sessions: Schema.Array(rows.sessions),
  consents: Schema.Array(rows.consents),
  garments: Schema.Array(rows.garments),
  ownershipEvents: Schema.Array(rows.ownershipEvents),
  transfers: Schema.Array(rows.transfers),
  claims: Schema.Array(rows.claims),
  scanEvents: Schema.Array(rows.scanEvents),
  notifications: Schema.Array(rows.notifications)
})
export const Erased = Schema.Struct({ userId: Schema.UUID, erasedAt: Schema.Date })

export const PrivacyApi = HttpApiGroup.make("privacy")
  .add(
    HttpApiEndpoint.get("export", "/v1/me/export")
      .addSuccess(PersonalDataExport)
      .addError(NotFound)
      .addError(Unauthorized)
  )
  .add(HttpApiEndpoint.del("erase", "/v1/me").addSuccess(Erased).addError(Unauthorized))
  .middleware(Authentication)
  .annotate(OpenApi.Description, "right of access (export everything held) and right to erasure")

// directory: brands, staff, accounts (the console's admin pages) ------------------------------------
export const Brand = Schema.Struct({
  id: Schema.UUID,
  slug: Schema.String,
  name: Schema.String,
  gs1CompanyPrefix: Schema.NullOr(Schema.String),
  staff: Schema.Int,
  garments: Schema.Int,
  createdAt: Schema.Date
})
export const CreateBrandRequest = Schema.Struct({
  slug: Schema.String.pipe(
    Schema.pattern(/^[a-z0-9][a-z0-9-]{1,62}$/, {
      message: () => "must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit"
    })
  ),
  name: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(120)),
  gs1CompanyPrefix: Schema.optional(
    Schema.String.pipe(Schema.pattern(/^[0-9]{6,12}$/, { message: () => "must be 6-12 digits" }))
  )
})
export const Account = Schema.Struct({
  id: Schema.UUID,
  role: UserRole,
  brandId: Schema.NullOr(Schema.UUID),
  email: Schema.NullOr(Schema.String),
  displayName: Schema.NullOr(Schema.String),
  createdAt: Schema.Date
})
export type Account = typeof Account.Type
export const InviteStaffRequest = Schema.Struct({
  email: Email,
  displayName: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(120)),
  /** the first password, handed to the new colleague by the admin (there is no mail service) */
  password: Schema.String.pipe(Schema.minLength(10), Schema.maxLength(200))
})
export const SetRoleRequest = Schema.Struct({ role: UserRole, brandId: Schema.NullOr(Schema.UUID) })
const UsersParams = Schema.Struct({
  role: Schema.optional(UserRole),
  brandId: Schema.optional(Schema.UUID),
  cursor: Schema.optional(Cursor),
  limit: Schema.optional(PageLimit)
})

export const DirectoryApi = HttpApiGroup.make("directory")
  .add(HttpApiEndpoint.get("me", "/v1/me").addSuccess(Account))
  .add(HttpApiEndpoint.get("listBrands", "/v1/brands").addSuccess(Schema.Struct({ brands: Schema.Array(Brand) })))
  .add(
    HttpApiEndpoint.post("createBrand", "/v1/brands")
      .setPayload(CreateBrandRequest)
      .addSuccess(Brand, { status: 201 })
      .addError(Conflict)
  )
  .add(
    HttpApiEndpoint.get("listStaff", "/v1/brands/:id/staff")
      .setPath(IdPath)
      .addSuccess(Schema.Struct({ users: Schema.Array(Account) }))
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("inviteStaff", "/v1/brands/:id/staff")
      .setPath(IdPath)
      .setPayload(InviteStaffRequest)
      .addSuccess(Account, { status: 201 })
      .addError(NotFound)
      .addError(EmailTaken)
      .addError(InvalidRequest)
      .addError(WeakPassword)
      .addError(RateLimited)
  )
  .add(
    HttpApiEndpoint.get("listUsers", "/v1/users")
      .setUrlParams(UsersParams)
      .addSuccess(Schema.Struct({ users: Schema.Array(Account), nextCursor: Schema.NullOr(Schema.String) }))
  )
  .add(
    HttpApiEndpoint.put("setRole", "/v1/users/:id/role")
      .setPath(IdPath)
      .setPayload(SetRoleRequest)
      .addSuccess(Account)
      .addError(NotFound)
      .addError(InvalidRequest)
  )
  .middleware(Authentication)
  .addError(Unauthorized)
  .addError(Forbidden)
  .annotate(
    OpenApi.Description,
    "who is signed in; brands and their staff, accounts and roles (admins; brand staff read their own brand)"
  )

// inbox: an owner's notifications and transfer offers -----------------------------------------------
export const Notification = Schema.Struct({
  id: Schema.UUID,
  kind: Schema.String,
  payload: Schema.Unknown,
  createdAt: Schema.Date,
  readAt: Schema.NullOr(Schema.Date)
})
export const TransferListing = Schema.Struct({
  ...Transfer.fields,
  garmentName: Schema.NullOr(Schema.String),
  direction: Schema.Literal("incoming", "outgoing")
})

export const InboxApi = HttpApiGroup.make("inbox")
  .add(
    HttpApiEndpoint.get("notifications", "/v1/me/notifications")
      .setUrlParams(Schema.Struct({ cursor: Schema.optional(Cursor), limit: Schema.optional(PageLimit) }))
      .addSuccess(
        Schema.Struct({
          notifications: Schema.Array(Notification),
          unread: Schema.Int,
          nextCursor: Schema.NullOr(Schema.String)
        })
      )
  )
  .add(
    HttpApiEndpoint.post("markRead", "/v1/me/notifications/:id/read")
      .setPath(IdPath)
      .addSuccess(NoContent)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.get("transfers", "/v1/me/transfers").addSuccess(
      Schema.Struct({ transfers: Schema.Array(TransferListing) })
    )
  )
  .middleware(Authentication)
  .addError(Unauthorized)
  .annotate(OpenApi.Description, "the signed-in person's notifications and ownership transfers")

/** The identity service's HTTP contract. */
export const IdentityApi = HttpApi.make("identity")
  .add(HealthApi)
  .add(AuthApi)
  .add(UsersApi)
  .add(DevicesApi)
  .add(OwnershipApi)
  .add(PrivacyApi)
  .add(DirectoryApi)
  .add(InboxApi)
  .annotate(OpenApi.Title, "Brand.Me identity")
  .annotate(OpenApi.Description, Services.identity.description)
