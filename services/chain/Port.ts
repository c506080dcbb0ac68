import { Effect, Layer } from "effect"
import { Anchoring } from "./Anchoring.js"
import { ChainConfig } from "./ChainConfig.js"
import { ChainProviderLive } from "./Providers.js"
import { AnchorWallet } from "./Wallet.js"

/** a CHAIN_* setting chain's port (and its server) cannot start with */
export type { ChainConfigError } from "./Errors.js"

/**
 * What another service may ask of chain in-process (the orchestrator's blockchain jobs): anchor a signed
 * checkpoint, and advance submitted anchors to confirmed or failed. The rest of this folder is chain's own;
 * other services import this module or `Api.ts` only (services/Boundaries.test.ts).
 */
export class ChainPort extends Effect.Service<ChainPort>()("brandme/chain/Port", {
  dependencies: [
    Anchoring.Default.pipe(
      Layer.provide(ChainProviderLive),
      Layer.provide(AnchorWallet.layer),
      Layer.provide(ChainConfig.layer)
    )
  ],
  effect: Effect.map(Anchoring, (a) => ({
    anchorCheckpoint: (p: { readonly origin: string; readonly treeSize: number; readonly rootHex: string }) =>
      Effect.map(a.anchorCheckpoint(p), (r) => ({ id: r.id, status: r.status, txId: r.txId })),
    syncConfirmations: Effect.map(a.syncConfirmations, (r) => ({
      checked: r.checked,
      transitions: r.transitions.length
    }))
  }))
}) {}
