import { Serialization } from "@cardano-sdk/core"
import * as Crypto from "@cardano-sdk/crypto"
import { Effect, Either, Redacted } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { blake2b256, fromHex, toHex } from "./Hash.js"
import { validateTransaction } from "./LedgerRules.js"
import { anchorMessages, cip20Metadatum } from "./Metadata.js"
import {
  buildAnchorTx,
  buildSignedTx,
  decodeAnchor,
  decodeTransaction,
  MAINNET_LIKE_PARAMETERS,
  minFee,
  type Utxo
} from "./Transaction.js"
import { type AnchorWalletService, makeWallet } from "./Wallet.js"
import { DEV_CHAIN_SIGNING_KEY } from "../../shared/config/AppConfig.js"

const params = MAINNET_LIKE_PARAMETERS
const root = "ab".repeat(32)
const payload = { origin: "brandme.example/audit/v1", treeSize: 4096, rootHex: root }
let wallet: AnchorWalletService
let funds: Array<Utxo>

beforeAll(async () => {
  wallet = await Effect.runPromise(makeWallet(Redacted.make(DEV_CHAIN_SIGNING_KEY), "preprod"))
  funds = [{ txId: "11".repeat(32), index: 0, address: wallet.address, lovelace: 50_000_000n }]
})

const lookupIn = (utxos: ReadonlyArray<Utxo>) => (r: { txId: string; index: number }) =>
  utxos.find((u) => u.txId === r.txId && u.index === r.index)

/** Rebuilds a signed transaction with another witness set, keeping the body and metadata bytes. */
const withWitness = (cborHex: string, publicKeyHex: string, signatureHex: string): string => {
  const reader = new Serialization.CborReader(Serialization.TxCBOR(cborHex))
  reader.readStartArray()
  const body = toHex(reader.readEncodedValue())
  reader.readEncodedValue()
  reader.readBoolean()
  const aux = toHex(reader.readEncodedValue())
  const ws = new Serialization.TransactionWitnessSet()
  ws.setVkeys(
    Serialization.CborSet.fromCore(
      [[Crypto.Ed25519PublicKeyHex(publicKeyHex), Crypto.Ed25519SignatureHex(signatureHex)]],
      Serialization.VkeyWitness.fromCore
    )
  )
  return new Serialization.Transaction(
    Serialization.TransactionBody.fromCbor(Serialization.TxCBOR(body)),
    ws,
    Serialization.AuxiliaryData.fromCbor(Serialization.TxCBOR(aux))
  ).toCbor()
}

describe("anchor transaction", () => {
  it("builds, signs and decodes back: id = Blake2b-256(body bytes), metadata round-trips, fee formula holds", async () => {
    const tx = await Effect.runPromise(buildAnchorTx(payload, { utxos: funds, params, wallet }))
    const reader = new Serialization.CborReader(Serialization.TxCBOR(tx.cborHex))
    reader.readStartArray()
    const bodyBytes = reader.readEncodedValue()
    expect(tx.txId).toBe(blake2b256(bodyBytes))
    expect(tx.size).toBe(fromHex(tx.cborHex).length)
    expect(tx.fee).toBe(minFee(params, tx.size))
    expect(tx.change + tx.fee).toBe(50_000_000n)

    const anchor = await Effect.runPromise(decodeAnchor(tx.cborHex))
    expect(anchor).toEqual({ txId: tx.txId, ...payload })
    // the SDK agrees on the id of the exact bytes
    expect(Serialization.Transaction.fromCbor(Serialization.TxCBOR(tx.cborHex)).getId()).toBe(tx.txId)
  })

  it("keeps every metadata line within 64 bytes, splitting long origins", async () => {
    const long = { ...payload, origin: "ü".repeat(70) }
    const lines = anchorMessages(long)
    for (const l of lines) expect(new TextEncoder().encode(l).length).toBeLessThanOrEqual(64)
    const tx = await Effect.runPromise(buildAnchorTx(long, { utxos: funds, params, wallet }))
    expect((await Effect.runPromise(decodeAnchor(tx.cborHex))).origin).toBe(long.origin)
  })

  it("refuses to spend more than the wallet holds", async () => {
    const poor = [{ ...funds[0]!, lovelace: 100_000n }]
    const r = await Effect.runPromise(Effect.either(buildAnchorTx(payload, { utxos: poor, params, wallet })))
    expect(Either.isLeft(r) && r.left.reason).toBe("InsufficientFunds")
  })

  it("decodeAnchor rejects a transaction whose message is not an anchor", async () => {
    const tx = await Effect.runPromise(
      buildSignedTx({ metadatum: cip20Metadatum(["hello"]), utxos: funds, params, wallet })
    )
    const r = await Effect.runPromise(Effect.either(decodeAnchor(tx.cborHex)))
    expect(Either.isLeft(r) && r.left._tag).toBe("AnchorDecodeError")
  })
})

describe("local ledger rules", () => {
  it("accepts a well-formed anchor and reports what it spends and creates", async () => {
    const tx = await Effect.runPromise(buildAnchorTx(payload, { utxos: funds, params, wallet }))
    const r = validateTransaction(tx.cborHex, params, lookupIn(funds))
    expect(Either.isRight(r)).toBe(true)
    if (Either.isRight(r)) {
      expect(r.right.spent).toEqual([{ txId: funds[0]!.txId, index: 0 }])
      expect(r.right.created).toEqual([{ txId: tx.txId, index: 0, address: wallet.address, lovelace: tx.change }])
    }
  })

  it("rejects a bad signature", async () => {
    const tx = await Effect.runPromise(buildAnchorTx(payload, { utxos: funds, params, wallet }))
    const decoded = Either.getOrThrow(decodeTransaction(tx.cborHex))
    const [pub, sig] = decoded.vkeys[0]!
    const flipped = (sig.slice(0, 2) === "00" ? "01" : "00") + sig.slice(2)
    const r = validateTransaction(withWitness(tx.cborHex, pub, flipped), params, lookupIn(funds))
    expect(Either.isLeft(r) && r.left.code).toBe("InvalidSignatories")
  })

  it("rejects a signature by a key that does not own the input", async () => {
    const other = await Effect.runPromise(makeWallet(Redacted.make("22".repeat(32)), "preprod"))
    const tx = await Effect.runPromise(buildAnchorTx(payload, { utxos: funds, params, wallet }))
    const r = validateTransaction(
      withWitness(tx.cborHex, other.publicKeyHex, other.sign(tx.txId)),
      params,
      lookupIn(funds)
    )
    expect(Either.isLeft(r) && r.left.code).toBe("MissingSignatories")
  })

  it("rejects a fee below minFeeA · size + minFeeB", async () => {
    const tx = await Effect.runPromise(
      buildSignedTx({
        metadatum: cip20Metadatum(anchorMessages(payload)),
        utxos: funds,
        params,
        wallet,
        fixedFee: 150_000n
      })
    )
    expect(tx.fee).toBeLessThan(minFee(params, tx.size))
    const r = validateTransaction(tx.cborHex, params, lookupIn(funds))
    expect(Either.isLeft(r) && r.left.code).toBe("FeeTooSmall")
  })

  it("rejects a double spend", async () => {
    const first = await Effect.runPromise(buildAnchorTx(payload, { utxos: funds, params, wallet }))
    const second = await Effect.runPromise(
      buildAnchorTx({ ...payload, treeSize: 4097 }, { utxos: funds, params, wallet })
    )
    const unspent = new Map(funds.map((u) => [`${u.txId}#${u.index}`, u]))
    const accepted = validateTransaction(first.cborHex, params, (r) => unspent.get(`${r.txId}#${r.index}`))
    expect(Either.isRight(accepted)).toBe(true)
    if (Either.isRight(accepted)) for (const s of accepted.right.spent) unspent.delete(`${s.txId}#${s.index}`)
    const r = validateTransaction(second.cborHex, params, (ref) => unspent.get(`${ref.txId}#${ref.index}`))
    expect(Either.isLeft(r) && r.left.code).toBe("UnknownOutputReferences")
  })

  it("rejects malformed label-674 metadata", async () => {
    const notAList = new Serialization.MetadatumMap()
    notAList.insert(
      Serialization.TransactionMetadatum.newText("msg"),
      Serialization.TransactionMetadatum.newInteger(7n)
    )
    const tx = await Effect.runPromise(
      buildSignedTx({ metadatum: Serialization.TransactionMetadatum.newMap(notAList), utxos: funds, params, wallet })
    )
    const r = validateTransaction(tx.cborHex, params, lookupIn(funds))
    expect(Either.isLeft(r) && r.left.code).toBe("InvalidMetadata")
  })

  it("rejects garbage bytes as malformed", () => {
    const r = validateTransaction("deadbeef", params, lookupIn(funds))
    expect(Either.isLeft(r) && r.left.code).toBe("Malformed")
  })
})
