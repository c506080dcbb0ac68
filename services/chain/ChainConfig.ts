import { Config, Context, Layer, Option, Redacted } from "effect"
import { DEV_CHAIN_SIGNING_KEY } from "../../shared/config/AppConfig.js"

export type ChainProviderName = "local" | "blockfrost" | "ogmios"
export type ChainNetwork = "preprod" | "preview" | "mainnet"

/**
 * What the chain service needs from the environment. Read with the same env names as AppConfig
 * (CHAIN_PROVIDER, CHAIN_NETWORK, CHAIN_SIGNING_KEY, BLOCKFROST_PROJECT_ID, OGMIOS_URL) plus
 * BLOCKFROST_URL and CHAIN_LOCAL_CONFIRM_MS, which only this service uses.
 *
 * CHAIN_SIGNING_KEY is hex: 64 hex chars = a normal Ed25519 private key (the 32-byte seed, as in
 * cardano-cli's `PaymentSigningKeyShelley_ed25519` cborHex minus its `5820` prefix) or 128 hex chars =
 * an extended Ed25519 key (kL‖kR, as derived from a BIP32-Ed25519 wallet). The development default
 * (DEV_CHAIN_SIGNING_KEY, refused outside development by AppConfig) is expanded to a deterministic,
 * publicly known — therefore insecure — key.
 */
export interface ChainSettings {
  readonly provider: ChainProviderName
  readonly network: ChainNetwork
  readonly signingKey: Redacted.Redacted<string>
  readonly blockfrostProjectId: Option.Option<Redacted.Redacted<string>>
  readonly blockfrostUrl: Option.Option<string>
  readonly ogmiosUrl: string
  readonly localConfirmMs: number
}

export const chainSettings = Config.all({
  provider: Config.literal("local", "blockfrost", "ogmios")("CHAIN_PROVIDER").pipe(Config.withDefault("local")),
  network: Config.literal("preprod", "preview", "mainnet")("CHAIN_NETWORK").pipe(Config.withDefault("preprod")),
  signingKey: Config.redacted("CHAIN_SIGNING_KEY").pipe(Config.withDefault(Redacted.make(DEV_CHAIN_SIGNING_KEY))),
  blockfrostProjectId: Config.option(Config.redacted("BLOCKFROST_PROJECT_ID")),
  blockfrostUrl: Config.option(Config.string("BLOCKFROST_URL")),
  ogmiosUrl: Config.string("OGMIOS_URL").pipe(Config.withDefault("http://127.0.0.1:1337")),
  localConfirmMs: Config.integer("CHAIN_LOCAL_CONFIRM_MS").pipe(
    Config.validate({ message: "must be >= 0", validation: (n) => n >= 0 }),
    Config.withDefault(2000)
  )
})

export class ChainConfig extends Context.Tag("brandme/chain/ChainConfig")<ChainConfig, ChainSettings>() {
  static readonly layer = Layer.effect(ChainConfig, chainSettings)
  static readonly layerWith = (s: ChainSettings) => Layer.succeed(ChainConfig, s)
}

export const blockfrostBaseUrl = (network: ChainNetwork): string => `https://cardano-${network}.blockfrost.io/api/v0`

/** Development settings for tests: local ledger, the insecure dev key, instant-ish confirmations. */
export const devChainSettings = (overrides: Partial<ChainSettings> = {}): ChainSettings => ({
  provider: "local",
  network: "preprod",
  signingKey: Redacted.make(DEV_CHAIN_SIGNING_KEY),
  blockfrostProjectId: Option.none(),
  blockfrostUrl: Option.none(),
  ogmiosUrl: "http://127.0.0.1:1337",
  localConfirmMs: 2000,
  ...overrides
})
