import { Cardano } from "@cardano-sdk/core"
import * as Crypto from "@cardano-sdk/crypto"
import { Either } from "effect"
import { describe, LedgerRejection, type LedgerRejectionCode } from "./Errors.js"
import { blake2b256 } from "./Hash.js"
import { cip20Lines } from "./Metadata.js"
import {
  type DecodedTx,
  decodeTransaction,
  minFee,
  minUtxo,
  type ProtocolParameters,
  type Utxo
} from "./Transaction.js"

export interface OutputRef {
  readonly txId: string
  readonly index: number
}

/** What the ledger has accepted: the outputs it spends and the ones it creates. */
export interface AcceptedTx {
  readonly tx: DecodedTx
  readonly spent: ReadonlyArray<OutputRef>
  readonly created: ReadonlyArray<Utxo>
}

const reject = (code: LedgerRejectionCode, message: string) => Either.left(new LedgerRejection({ code, message }))

const paymentKeyHash = (address: string): string | undefined => {
  try {
    const part = Cardano.Address.fromBech32(address).getProps().paymentPart
    return part?.type === Cardano.CredentialType.KeyHash ? part.hash : undefined
  } catch {
    return undefined
  }
}

const signatureValid = (publicKeyHex: string, signatureHex: string, txId: string): boolean => {
  try {
    return Crypto.Ed25519PublicKey.fromHex(Crypto.Ed25519PublicKeyHex(publicKeyHex)).verify(
      Crypto.Ed25519Signature.fromHex(Crypto.Ed25519SignatureHex(signatureHex)),
      Crypto.Hash32ByteBase16(txId)
    )
  } catch {
    return false
  }
}

/**
 * The checks a Cardano node applies to a simple key-witnessed payment, over the exact bytes submitted:
 * signatures over Blake2b-256(body bytes), the linear fee, inputs present and unspent, value conserved,
 * minimum output value, and metadata that matches the body's hash and is well-formed CIP-20 (label 674).
 * `lookup` answers for unspent outputs only, so a spent input reads as unknown (a double spend).
 * Requires `Crypto.ready()` to have run.
 */
export const validateTransaction = (
  cborHex: string,
  params: ProtocolParameters,
  lookup: (ref: OutputRef) => Utxo | undefined
): Either.Either<AcceptedTx, LedgerRejection> => {
  const decoded = decodeTransaction(cborHex)
  if (Either.isLeft(decoded)) return reject("Malformed", decoded.left)
  const tx = decoded.right
  if (tx.unsupported.length > 0) return reject("Unsupported", `not accepted here: ${tx.unsupported.join(", ")}`)
  if (tx.size > params.maxTxSize) return reject("TransactionTooLarge", `${tx.size} > ${params.maxTxSize} bytes`)
  if (tx.inputs.length === 0) return reject("Malformed", "no inputs")
  const keys = new Set(tx.inputs.map((i) => `${i.txId}#${i.index}`))
  if (keys.size !== tx.inputs.length) return reject("Malformed", "an input is listed twice")

  if (tx.vkeys.length === 0) return reject("MissingSignatories", "no key witnesses")
  const bad = tx.vkeys.filter(([k, s]) => !signatureValid(k, s, tx.txId))
  if (bad.length > 0) return reject("InvalidSignatories", `bad signature from ${bad.map(([k]) => k).join(", ")}`)

  const required = minFee(params, tx.size)
  if (tx.fee < required) return reject("FeeTooSmall", `fee ${tx.fee} < ${required} for ${tx.size} bytes`)

  const spent: Array<Utxo> = []
  for (const ref of tx.inputs) {
    const utxo = lookup(ref)
    if (utxo === undefined) return reject("UnknownOutputReferences", `${ref.txId}#${ref.index} is unknown or spent`)
    spent.push(utxo)
  }
  const signers = new Set(
    tx.vkeys.map(([k]) => {
      try {
        return Crypto.Ed25519PublicKey.fromHex(Crypto.Ed25519PublicKeyHex(k)).hash().hex()
      } catch (e) {
        return describe(e)
      }
    })
  )
  for (const u of spent) {
    const needed = paymentKeyHash(u.address)
    if (needed === undefined || !signers.has(needed)) {
      return reject("MissingSignatories", `${u.txId}#${u.index} needs a signature from its payment key`)
    }
  }

  for (const [i, o] of tx.outputs.entries()) {
    if (o.hasAssets) return reject("Unsupported", `output ${i} carries native assets`)
    const least = minUtxo(params, o.cborHex)
    if (o.lovelace < least) return reject("OutputTooSmall", `output ${i} holds ${o.lovelace} < ${least} lovelace`)
  }
  const consumed = spent.reduce((s, u) => s + u.lovelace, 0n)
  const produced = tx.outputs.reduce((s, o) => s + o.lovelace, 0n) + tx.fee
  if (consumed !== produced) return reject("ValueNotConserved", `consumed ${consumed} ≠ produced ${produced}`)

  if (tx.auxBytes === undefined) return reject("MissingMetadata", "an anchor transaction carries metadata")
  if (tx.auxiliaryDataHash !== blake2b256(tx.auxBytes)) {
    return reject("MetadataHashMismatch", "the body's auxiliary data hash does not match the metadata")
  }
  if (tx.metadataError !== undefined) return reject("InvalidMetadata", tx.metadataError)
  const lines = cip20Lines(tx.metadata)
  if (Either.isLeft(lines)) return reject("InvalidMetadata", lines.left)

  return Either.right({
    tx,
    spent: tx.inputs,
    created: tx.outputs.map((o, index) => ({ txId: tx.txId, index, address: o.address, lovelace: o.lovelace }))
  })
}
