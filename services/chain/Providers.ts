import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer } from "effect"
import { BlockfrostLayer } from "./Blockfrost.js"
import { ChainConfig } from "./ChainConfig.js"
import { LocalLedgerLayer } from "./LocalLedger.js"
import { OgmiosLayer } from "./Ogmios.js"

/**
 * The ChainProvider chosen by CHAIN_PROVIDER: `local` (the embedded Postgres ledger, the default),
 * `blockfrost` or `ogmios`. Needs ChainConfig, AnchorWallet and (for `local`) the SqlClient.
 */
export const ChainProviderLive = Layer.unwrapEffect(
  Effect.map(ChainConfig, (c) => {
    switch (c.provider) {
      case "local":
        return LocalLedgerLayer
      case "blockfrost":
        return BlockfrostLayer.pipe(Layer.provide(FetchHttpClient.layer))
      case "ogmios":
        return OgmiosLayer.pipe(Layer.provide(FetchHttpClient.layer))
    }
  })
)
