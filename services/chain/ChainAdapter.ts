import { Effect, Layer } from "effect"
import { Chain, ChainError, type ChainService } from "../../shared/layers/Chain.js"
import { ChainProvider, type ChainProviderService } from "./ChainProvider.js"
import type { ChainProviderUnavailable, ChainSubmitRejected } from "./Errors.js"
import { toHex } from "./Hash.js"

const toChainError = (operation: string) => (e: ChainSubmitRejected | ChainProviderUnavailable) =>
  new ChainError({
    provider: e.provider,
    operation,
    retryable: e.retryable,
    message: e._tag === "ChainSubmitRejected" ? `${e.code}: ${e.message}` : e.message
  })

/**
 * The shared `Chain` tag (shared/layers/Chain.ts) served by this service's ChainProvider, so code that
 * only needs submit/status/parameters can depend on the shared interface. Anchoring itself needs
 * `utxos` as well and uses ChainProvider directly.
 */
export const asChainService = (p: ChainProviderService): ChainService => ({
  provider: p.name,
  protocolParameters: p.protocolParameters.pipe(
    Effect.map((x) => ({ minFeeA: Number(x.minFeeA), minFeeB: Number(x.minFeeB), maxTxSize: x.maxTxSize })),
    Effect.mapError(toChainError("protocolParameters"))
  ),
  submit: (cbor) => p.submit(toHex(cbor)).pipe(Effect.mapError(toChainError("submit"))),
  status: (txId) =>
    p.status(txId).pipe(
      Effect.map((s) => ({
        status: s.state,
        confirmations: s.confirmations ?? (s.state === "confirmed" ? 1 : 0)
      })),
      Effect.mapError(toChainError("status"))
    )
})

export const ChainFromProvider = Layer.effect(Chain, Effect.map(ChainProvider, asChainService))
