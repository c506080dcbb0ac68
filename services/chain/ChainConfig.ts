import { Context, Effect, Layer, Option, Redacted } from "effect"
import { AppConfig, type AppConfigShape, DEV_CHAIN_SIGNING_KEY } from "../../shared/config/AppConfig.js"

/**
 * What the chain adapter needs from the environment (CHAIN_PROVIDER, CHAIN_NETWORK, CHAIN_SIGNING_KEY,
 * BLOCKFROST_PROJECT_ID, BLOCKFROST_URL, OGMIOS_URL, CHAIN_LOCAL_CONFIRM_MS), read and checked in AppConfig
 * (shared/config/ServiceSettings.ts, which says what the signing key's hex may be).
 */
export type ChainSettings = AppConfigShape["chain"]
export type ChainProviderName = ChainSettings["provider"]
export type ChainNetwork = ChainSettings["network"]

export class ChainConfig extends Context.Tag("brandme/chain/ChainConfig")<ChainConfig, ChainSettings>() {
  static readonly layer = Layer.effect(
    ChainConfig,
    Effect.map(AppConfig, (c) => c.chain)
  )
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
