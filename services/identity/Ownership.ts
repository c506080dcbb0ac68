import { Effect, Option, Redacted } from "effect"
import { Forbidden, type Principal } from "../../shared/auth/Tokens.js"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { lookupHash, masterKeyBytes } from "../../shared/crypto/Pii.js"
import { requireRole } from "./Authenticate.js"
import { InvalidRequest, NotFound } from "./Errors.js"
import { GarmentEvents } from "./GarmentEvents.js"
import { OwnershipRepo, type TransferRow } from "./OwnershipRepo.js"
import { IdentityRepo } from "./Repo.js"
import { claimCodeHash, newClaimCode } from "./Secrets.js"

/**
 * Who owns a garment: a brand issues a one-time claim code with the garment, the first owner to
 * present it becomes the owner, and an owner can offer the garment to another person, who accepts
 * (or either side cancels). Each step appends an ownership event and announces the garment change.
 */
export const OwnershipPolicy = {
  claimCodeDays: { default: 365, max: 3650 },
  transferSeconds: 7 * 24 * 60 * 60
} as const

export interface TransferView {
  readonly id: string
  readonly garmentId: string
  readonly fromUserId: string | null
  readonly toUserId: string | null
  readonly status: "pending" | "accepted" | "cancelled"
  readonly createdAt: Date
  readonly expiresAt: Date
  readonly decidedAt: Date | null
}

/** A transfer row as the API shows it (also the base of the owner's transfer list in Directory). */
export const transferView = (t: TransferRow): TransferView => ({
  id: t.id,
  garmentId: t.garment_id,
  fromUserId: t.from_user_id,
  toUserId: t.to_user_id,
  status: t.status,
  createdAt: t.created_at,
  expiresAt: t.expires_at,
  decidedAt: t.decided_at
})

export class Ownership extends Effect.Service<Ownership>()("brandme/identity/Ownership", {
  effect: Effect.gen(function* () {
    const repo = yield* OwnershipRepo
    const users = yield* IdentityRepo
    const events = yield* GarmentEvents
    const config = yield* AppConfig
    const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
    const now = () => new Date().toISOString()

    const issueClaimCode = (p: Principal, garmentId: string, expiresInDays: number | undefined) =>
      Effect.gen(function* () {
        yield* requireRole(p, ["brand", "admin"], "issuing a claim code")
        const garment = yield* repo.garment(garmentId)
        // another brand's garment answers like a missing one
        if (Option.isNone(garment) || (p.role === "brand" && garment.value.brandId !== p.brandId)) {
          return yield* new NotFound({ message: `no garment ${garmentId} of your brand` })
        }
        if (garment.value.ownerUserId !== null) {
          return yield* new InvalidRequest({
            message: "this garment already has an owner: it changes hands by transfer"
          })
        }
        const days = expiresInDays ?? OwnershipPolicy.claimCodeDays.default
        const code = newClaimCode()
        const { expiresAt } = yield* repo.insertClaimCode(claimCodeHash(code), garmentId, days * 86_400)
        return { garmentId, code, expiresAt }
      }).pipe(Effect.withSpan("Ownership.issueClaimCode"))

    const claim = (p: Principal, code: string) =>
      Effect.gen(function* () {
        yield* requireRole(p, ["owner"], "claiming a garment")
        const change = yield* repo.claim(claimCodeHash(code), p.userId)
        yield* events.updated({ ...change, change: "claimed", at: now() })
        return { garmentId: change.garmentId, ownerUserId: p.userId }
      }).pipe(Effect.withSpan("Ownership.claim"))

    const offerTransfer = (p: Principal, garmentId: string, toUserEmail: string) =>
      Effect.gen(function* () {
        // the caller's right to the garment first: a stranger learns nothing about the email from the answer
        const garment = yield* repo.garment(garmentId)
        if (Option.isNone(garment)) return yield* new NotFound({ message: `no garment ${garmentId}` })
        if (garment.value.ownerUserId !== p.userId) {
          return yield* new Forbidden({ message: "only the garment's owner can offer a transfer" })
        }
        const recipient = yield* users.findUserByEmailHash(lookupHash(master, toUserEmail))
        if (Option.isNone(recipient) || recipient.value.erased_at !== null || recipient.value.role !== "owner") {
          return yield* new NotFound({ message: "no owner account with that email" })
        }
        if (recipient.value.id === p.userId) {
          return yield* new InvalidRequest({ message: "you already own this garment" })
        }
        const t = yield* repo.offerTransfer(garmentId, p.userId, recipient.value.id, OwnershipPolicy.transferSeconds)
        return transferView(t)
      }).pipe(Effect.withSpan("Ownership.offerTransfer"))

    const acceptTransfer = (p: Principal, transferId: string) =>
      Effect.gen(function* () {
        const r = yield* repo.acceptTransfer(transferId, p.userId)
        yield* events.updated({ garmentId: r.garmentId, version: r.version, change: "transferred", at: now() })
        return transferView(r.transfer)
      }).pipe(Effect.withSpan("Ownership.acceptTransfer"))

    const cancelTransfer = (p: Principal, transferId: string) =>
      Effect.map(repo.cancelTransfer(transferId, p.userId), transferView).pipe(
        Effect.withSpan("Ownership.cancelTransfer")
      )

    return { issueClaimCode, claim, offerTransfer, acceptTransfer, cancelTransfer } as const
  })
}) {}
