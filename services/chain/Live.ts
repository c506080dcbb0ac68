import { Effect, Layer } from "effect"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { AnchorStatusHook, Anchoring } from "./Anchoring.js"
import { ChainConfig } from "./ChainConfig.js"
import { ChainProviderLive } from "./Providers.js"
import { AnchorWallet } from "./Wallet.js"

/**
 * Anchoring as the chain service and the orchestrator's blockchain tasks run it: the provider chosen
 * by CHAIN_PROVIDER, the wallet from CHAIN_SIGNING_KEY, every status change counted in
 * `brandme_blockchain_transactions_total{provider,status}` (series initialised at zero so dashboards
 * and ratios have data before the first failure).
 */
export const AnchorStatusMetricsLive = Layer.effect(
  AnchorStatusHook,
  Effect.gen(function* () {
    const { m } = yield* Metrics
    const config = yield* ChainConfig
    for (const status of ["submitted", "confirmed", "failed"] as const) {
      m.blockchainTransactionsTotal.inc({ provider: config.provider, status }, 0)
    }
    return {
      onStatus: (provider, status) => Effect.sync(() => m.blockchainTransactionsTotal.inc({ provider, status }))
    }
  })
)

export const AnchoringLive = Anchoring.Default.pipe(
  Layer.provide(AnchorStatusMetricsLive),
  Layer.provide(ChainProviderLive),
  Layer.provide(AnchorWallet.layer),
  Layer.provide(ChainConfig.layer)
)
