import { Effect, Layer, Option } from "effect"
import { ServiceTokensLive } from "../../shared/auth/ServiceTokens.js"
import { AppConfig, callUrl } from "../../shared/config/AppConfig.js"
import { BrainClient } from "../brain/Client.js"
import { KnowledgeClient } from "../knowledge/Client.js"
import { PolicyClient } from "../policy/Client.js"

/**
 * How the gateway reaches brain, policy and knowledge. `INTERNAL_CALLS=inprocess` calls their
 * services directly (the all-in-one process: no network hop); `http` uses the typed clients derived
 * from their Api.ts at BRAIN_URL / POLICY_URL / KNOWLEDGE_URL (default http://127.0.0.1:<port+offset>).
 * Default: inprocess when SERVICE is "all" or also runs the three; http when the gateway runs alone.
 */
export type CallMode = "inprocess" | "http"

export const InProcessCalls = Layer.mergeAll(BrainClient.InProcess, PolicyClient.InProcess, KnowledgeClient.InProcess)

/** over HTTP, each call with the gateway's service token for its callee (signed with SERVICE_TOKEN_KEY) */
export const HttpCalls = (urls: { readonly brain: string; readonly policy: string; readonly knowledge: string }) =>
  Layer.mergeAll(
    BrainClient.Http(urls.brain),
    PolicyClient.Http(urls.policy),
    KnowledgeClient.Http(urls.knowledge)
  ).pipe(Layer.provide(ServiceTokensLive))

export const defaultMode = (service: string): CallMode => {
  const names = service.split(",").map((s) => s.trim())
  return names.includes("all") || ["brain", "policy", "knowledge"].every((n) => names.includes(n))
    ? "inprocess"
    : "http"
}

export const InternalCallsLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* AppConfig
    const mode = Option.getOrElse(config.calls.mode, () => defaultMode(config.service))
    if (mode === "inprocess") return InProcessCalls
    return HttpCalls({
      brain: callUrl(config, "brain"),
      policy: callUrl(config, "policy"),
      knowledge: callUrl(config, "knowledge")
    })
  })
)
