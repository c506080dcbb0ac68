import { Cardano, Serialization } from "@cardano-sdk/core"
import * as Crypto from "@cardano-sdk/crypto"
import { Effect, Either } from "effect"
import { AnchorDecodeError, describe, TxBuildError } from "./Errors.js"
import { blake2b256, fromHex, toHex } from "./Hash.js"
import {
  type AnchorPayload,
  anchorMessages,
  CIP20_LABEL,
  cip20Lines,
  cip20Metadatum,
  parseAnchorMessages,
  validatePayload
} from "./Metadata.js"
import type { AnchorWalletService } from "./Wallet.js"

/** The protocol parameters a simple payment needs (lovelace amounts as bigint). */
export interface ProtocolParameters {
  readonly minFeeA: bigint
  readonly minFeeB: bigint
  readonly coinsPerUtxoByte: bigint
  readonly maxTxSize: number
}

/** Mainnet values (Conway era); the local ledger uses them so local fees look like real fees. */
export const MAINNET_LIKE_PARAMETERS: ProtocolParameters = {
  minFeeA: 44n,
  minFeeB: 155_381n,
  coinsPerUtxoByte: 4_310n,
  maxTxSize: 16_384
}

/** An ADA-only output the wallet can spend (providers leave out outputs carrying native assets). */
export interface Utxo {
  readonly txId: string
  readonly index: number
  readonly address: string
  readonly lovelace: bigint
}

export interface SignedTx {
  readonly txId: string
  /** the exact bytes signed and submitted — never re-serialise them */
  readonly cborHex: string
  readonly fee: bigint
  readonly size: number
  readonly inputs: ReadonlyArray<Utxo>
  readonly change: bigint
}

export const minFee = (p: ProtocolParameters, size: number): bigint => p.minFeeA * BigInt(size) + p.minFeeB

/** Babbage rule: an output must hold coinsPerUtxoByte × (160 + its serialised size). */
export const minUtxo = (p: ProtocolParameters, outputCborHex: string): bigint =>
  p.coinsPerUtxoByte * BigInt(160 + outputCborHex.length / 2)

const buildError = (reason: TxBuildError["reason"], message: string) => new TxBuildError({ reason, message })

/** Splits a transaction into its four parts without re-encoding any of them. */
const splitTx = (txBytes: Uint8Array) => {
  const reader = new Serialization.CborReader(Serialization.TxCBOR(toHex(txBytes)))
  const length = reader.readStartArray()
  if (length !== 4 && length !== 3) throw new TypeError(`a transaction is a 3- or 4-element array, got ${length}`)
  const body = reader.readEncodedValue()
  const witnessSet = reader.readEncodedValue()
  if (length === 4) reader.readBoolean()
  let aux: Uint8Array | undefined
  if (reader.peekState() === Serialization.CborReaderState.Null) reader.readNull()
  else aux = reader.readEncodedValue()
  return { body, witnessSet, aux }
}

const signOnce = (
  inputs: ReadonlyArray<Utxo>,
  fee: bigint,
  auxHex: string,
  wallet: AnchorWalletService
): { txId: string; cborHex: string; outputHex: string; change: bigint } => {
  const total = inputs.reduce((s, u) => s + u.lovelace, 0n)
  const change = total - fee
  const output = new Serialization.TransactionOutput(
    Cardano.Address.fromBech32(wallet.address),
    new Serialization.Value(change < 0n ? 0n : change)
  )
  const body = new Serialization.TransactionBody(
    Serialization.CborSet.fromCore(
      inputs.map((u) => ({ txId: Cardano.TransactionId(u.txId), index: u.index })),
      Serialization.TransactionInput.fromCore
    ),
    [output],
    fee
  )
  body.setAuxiliaryDataHash(Crypto.Hash32ByteBase16(blake2b256(fromHex(auxHex))))
  const bodyHex = body.toCbor()
  const txId = blake2b256(fromHex(bodyHex))
  const witnesses = new Serialization.TransactionWitnessSet()
  witnesses.setVkeys(
    Serialization.CborSet.fromCore(
      [[Crypto.Ed25519PublicKeyHex(wallet.publicKeyHex), Crypto.Ed25519SignatureHex(wallet.sign(txId))]],
      Serialization.VkeyWitness.fromCore
    )
  )
  // fromCbor keeps the original body bytes, so the transaction embeds exactly the bytes we hashed
  const tx = new Serialization.Transaction(
    Serialization.TransactionBody.fromCbor(bodyHex),
    witnesses,
    Serialization.AuxiliaryData.fromCbor(Serialization.TxCBOR(auxHex))
  )
  const cborHex = tx.toCbor()
  const parts = splitTx(fromHex(cborHex))
  if (toHex(parts.body) !== bodyHex) throw new TypeError("the SDK re-encoded the body: refusing to sign other bytes")
  return { txId, cborHex, outputHex: output.toCbor(), change }
}

export interface BuildArgs {
  readonly metadatum: Serialization.TransactionMetadatum
  readonly utxos: ReadonlyArray<Utxo>
  readonly params: ProtocolParameters
  readonly wallet: AnchorWalletService
  /** only for tests that need an underpaying transaction: skips the fee loop */
  readonly fixedFee?: bigint
}

/**
 * Spends the wallet's largest UTXOs back to itself with one change output and the metadata attached.
 * fee = minFeeA · size + minFeeB, found by iteration: sign with the real key (a signature is always 64 bytes),
 * measure the signed transaction, set the fee, rebuild until the fee covers the size it produces.
 */
export const buildSignedTx = (args: BuildArgs): Effect.Effect<SignedTx, TxBuildError> =>
  Effect.try({
    try: () => {
      const aux = new Serialization.AuxiliaryData()
      aux.setMetadata(new Serialization.GeneralTransactionMetadata(new Map([[CIP20_LABEL, args.metadatum]])))
      return aux.toCbor()
    },
    catch: (e) => buildError("InvalidPayload", describe(e))
  }).pipe(
    Effect.flatMap((auxHex) =>
      Effect.try({ try: () => selectAndSign(args, auxHex), catch: (e) => buildError("Serialization", describe(e)) })
    ),
    Effect.flatten
  )

const selectAndSign = (args: BuildArgs, auxHex: string): Either.Either<SignedTx, TxBuildError> => {
  const { params, wallet } = args
  const candidates = [...args.utxos]
    .filter((u) => u.address === wallet.address)
    .sort((a, b) => (b.lovelace > a.lovelace ? 1 : b.lovelace < a.lovelace ? -1 : 0))
  for (let k = 1; k <= candidates.length; k++) {
    const inputs = candidates.slice(0, k)
    let fee = args.fixedFee ?? 0n
    let signed = signOnce(inputs, fee, auxHex, wallet)
    for (let round = 0; args.fixedFee === undefined && round < 8; round++) {
      const required = minFee(params, signed.cborHex.length / 2)
      // a smaller fee can shrink the change encoding by a byte and flip back: stop once the fee covers the size
      if (fee === required || (fee > required && round > 2)) break
      fee = required > fee ? required : fee
      signed = signOnce(inputs, fee, auxHex, wallet)
    }
    const size = signed.cborHex.length / 2
    if (size > params.maxTxSize) return Either.left(buildError("TooLarge", `transaction is ${size} bytes`))
    if (signed.change >= minUtxo(params, signed.outputHex)) {
      return Either.right({ txId: signed.txId, cborHex: signed.cborHex, fee, size, inputs, change: signed.change })
    }
  }
  const total = candidates.reduce((s, u) => s + u.lovelace, 0n)
  return Either.left(
    buildError("InsufficientFunds", `wallet ${wallet.address} holds ${total} lovelace in ${candidates.length} UTXOs`)
  )
}

/** Builds and signs the CIP-20 anchor transaction for one checkpoint. */
export const buildAnchorTx = (
  payload: AnchorPayload,
  ctx: {
    readonly utxos: ReadonlyArray<Utxo>
    readonly params: ProtocolParameters
    readonly wallet: AnchorWalletService
  }
): Effect.Effect<SignedTx, TxBuildError> =>
  Either.match(validatePayload(payload), {
    onLeft: (message) => Effect.fail(buildError("InvalidPayload", message)),
    onRight: (p) =>
      Effect.try({
        try: () => cip20Metadatum(anchorMessages(p)),
        catch: (e) => buildError("InvalidPayload", describe(e))
      }).pipe(Effect.flatMap((metadatum) => buildSignedTx({ metadatum, ...ctx })))
  })

export interface DecodedOutput {
  readonly address: string
  readonly lovelace: bigint
  readonly hasAssets: boolean
  readonly cborHex: string
}

/** A transaction taken apart from its exact bytes: ids and hashes are computed from the bytes as sent. */
export interface DecodedTx {
  readonly txId: string
  readonly size: number
  readonly fee: bigint
  readonly inputs: ReadonlyArray<{ readonly txId: string; readonly index: number }>
  readonly outputs: ReadonlyArray<DecodedOutput>
  readonly vkeys: ReadonlyArray<readonly [publicKeyHex: string, signatureHex: string]>
  readonly auxiliaryDataHash: string | undefined
  readonly auxBytes: Uint8Array | undefined
  readonly metadata: Serialization.GeneralTransactionMetadata | undefined
  readonly metadataError: string | undefined
  /** body features this service never uses (certificates, minting, ...) — the local ledger refuses them */
  readonly unsupported: ReadonlyArray<string>
}

const readAux = (bytes: Uint8Array): Either.Either<Serialization.AuxiliaryData, string> =>
  Either.try({
    try: () => Serialization.AuxiliaryData.fromCbor(Serialization.TxCBOR(toHex(bytes))),
    catch: (e) => `unreadable metadata: ${describe(e)}`
  })

export const decodeTransaction = (cborHex: string): Either.Either<DecodedTx, string> =>
  Either.try({
    try: () => {
      if (!/^([0-9a-fA-F]{2})+$/.test(cborHex)) throw new TypeError("not hex")
      const bytes = fromHex(cborHex)
      const parts = splitTx(bytes)
      const body = Serialization.TransactionBody.fromCbor(Serialization.TxCBOR(toHex(parts.body)))
      const witnessSet = Serialization.TransactionWitnessSet.fromCbor(Serialization.TxCBOR(toHex(parts.witnessSet)))
      // metadata the SDK cannot read (e.g. a text over 64 bytes) is a metadata problem, not an unreadable tx
      const aux = parts.aux === undefined ? Either.right(undefined) : readAux(parts.aux)
      const unsupported = [
        ...(body.certs() ? ["certificates"] : []),
        ...(body.withdrawals() ? ["withdrawals"] : []),
        ...(body.mint() ? ["mint"] : []),
        ...(body.collateral() ? ["collateral"] : []),
        ...(body.referenceInputs() ? ["reference inputs"] : []),
        ...(body.votingProcedures() ? ["voting procedures"] : []),
        ...(body.proposalProcedures() ? ["proposal procedures"] : []),
        ...(witnessSet.redeemers() ? ["redeemers"] : []),
        ...(witnessSet.bootstraps() ? ["bootstrap witnesses"] : [])
      ]
      return {
        txId: blake2b256(parts.body),
        size: bytes.length,
        fee: body.fee(),
        inputs: body
          .inputs()
          .toCore()
          .map((i) => ({ txId: i.txId, index: i.index })),
        outputs: body.outputs().map((o) => ({
          address: o.address().toBech32(),
          lovelace: o.amount().coin(),
          hasAssets: (o.amount().multiasset()?.size ?? 0) > 0,
          cborHex: o.toCbor()
        })),
        vkeys: (witnessSet.vkeys()?.toCore() ?? []).map(([k, s]) => [k, s] as const),
        auxiliaryDataHash: body.auxiliaryDataHash(),
        auxBytes: parts.aux,
        metadata: Either.getOrUndefined(aux)?.metadata(),
        metadataError: Either.isLeft(aux) ? aux.left : undefined,
        unsupported
      }
    },
    catch: (e) => `not a Cardano transaction: ${describe(e)}`
  })

export interface DecodedAnchor extends AnchorPayload {
  readonly txId: string
}

/** Decodes a transaction and checks it carries a Brand.Me anchor whose metadata matches the body's hash. */
export const decodeAnchor = (cborHex: string): Effect.Effect<DecodedAnchor, AnchorDecodeError> =>
  Either.flatMap(decodeTransaction(cborHex), (tx) => {
    if (tx.auxBytes === undefined) return Either.left("the transaction has no auxiliary data")
    if (tx.auxiliaryDataHash !== blake2b256(tx.auxBytes)) {
      return Either.left("the body's auxiliary data hash does not match the metadata")
    }
    if (tx.metadataError !== undefined) return Either.left(tx.metadataError)
    return cip20Lines(tx.metadata).pipe(
      Either.flatMap(parseAnchorMessages),
      Either.map((p) => ({ txId: tx.txId, ...p }))
    )
  }).pipe(Either.mapLeft((message) => new AnchorDecodeError({ message })))
