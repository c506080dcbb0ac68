import { Cardano } from "@cardano-sdk/core"
import * as Crypto from "@cardano-sdk/crypto"
import { Context, Effect, Layer, Redacted } from "effect"
import { DEV_CHAIN_SIGNING_KEY } from "../../shared/config/AppConfig.js"
import { ChainConfig, type ChainNetwork } from "./ChainConfig.js"
import { ChainConfigError, describe } from "./Errors.js"
import { blake2b256 } from "./Hash.js"

/** The anchoring wallet: one enterprise address (payment key only) that pays for anchors and gets the change. */
export interface AnchorWalletService {
  readonly network: ChainNetwork
  readonly address: string
  readonly publicKeyHex: string
  readonly keyHashHex: string
  /** Ed25519 signature (hex) over the transaction id, i.e. the Blake2b-256 of the body bytes. */
  readonly sign: (txIdHex: string) => string
}

export class AnchorWallet extends Context.Tag("brandme/chain/AnchorWallet")<AnchorWallet, AnchorWalletService>() {
  static readonly layer = Layer.effect(
    AnchorWallet,
    Effect.flatMap(ChainConfig, (c) => makeWallet(c.signingKey, c.network))
  )
}

/** libsodium must be loaded before any key is used (else `crypto_sign_seed_keypair is not a function`). */
export const cryptoReady = Effect.promise(() => Crypto.ready())

const HEX = /^[0-9a-fA-F]*$/

export const networkId = (network: ChainNetwork): Cardano.NetworkId =>
  network === "mainnet" ? Cardano.NetworkId.Mainnet : Cardano.NetworkId.Testnet

const privateKeyFrom = (raw: string): Effect.Effect<Crypto.Ed25519PrivateKey, ChainConfigError> => {
  const invalid = (message: string) => new ChainConfigError({ setting: "CHAIN_SIGNING_KEY", message })
  if (raw === DEV_CHAIN_SIGNING_KEY) {
    // Deterministic and public: anyone can derive it. Only for development (AppConfig refuses it elsewhere).
    const seed = blake2b256(new TextEncoder().encode(raw))
    return Effect.succeed(Crypto.Ed25519PrivateKey.fromNormalHex(Crypto.Ed25519PrivateNormalKeyHex(seed)))
  }
  const hex = raw.trim().toLowerCase()
  if (!HEX.test(hex)) return Effect.fail(invalid("must be hex"))
  return Effect.try({
    try: () =>
      hex.length === 64
        ? Crypto.Ed25519PrivateKey.fromNormalHex(Crypto.Ed25519PrivateNormalKeyHex(hex))
        : Crypto.Ed25519PrivateKey.fromExtendedHex(Crypto.Ed25519PrivateExtendedKeyHex(hex)),
    catch: (e) => invalid(describe(e))
  }).pipe(
    Effect.filterOrFail(
      () => hex.length === 64 || hex.length === 128,
      () => invalid("must be 64 hex chars (normal Ed25519 key) or 128 hex chars (extended Ed25519 key)")
    )
  )
}

export const makeWallet = (
  signingKey: Redacted.Redacted<string>,
  network: ChainNetwork
): Effect.Effect<AnchorWalletService, ChainConfigError> =>
  Effect.gen(function* () {
    yield* cryptoReady
    const key = yield* privateKeyFrom(Redacted.value(signingKey))
    const publicKey = key.toPublic()
    const keyHash = publicKey.hash().hex()
    const address = Cardano.EnterpriseAddress.fromCredentials(networkId(network), {
      type: Cardano.CredentialType.KeyHash,
      hash: Crypto.Hash28ByteBase16(keyHash)
    })
      .toAddress()
      .toBech32()
    return {
      network,
      address,
      publicKeyHex: publicKey.hex(),
      keyHashHex: keyHash,
      sign: (txIdHex: string) => key.sign(Crypto.Hash32ByteBase16(txIdHex)).hex()
    }
  })
