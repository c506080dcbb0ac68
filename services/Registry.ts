import type { ServiceName } from "../shared/ServiceCatalog.js"
import { AgenticHttpLive } from "./agentic/Http.js"
import { BrainHttpLive } from "./brain/Http.js"
import { ChainHttpLive } from "./chain/Http.js"
import { ComplianceHttpLive } from "./compliance/Http.js"
import { ConsoleHttpLive } from "./console/Http.js"
import { GatewayHttpLive } from "./gateway/Http.js"
import { IdentityHttpLive } from "./identity/Http.js"
import { KnowledgeHttpLive } from "./knowledge/Http.js"
import { OrchestratorHttpLive } from "./orchestrator/Http.js"
import { PolicyHttpLive } from "./policy/Http.js"

/** Each service's process layer: its HTTP server plus whatever runs beside it (workers, consumers). */
export const ServiceLayers = {
  gateway: GatewayHttpLive,
  brain: BrainHttpLive,
  policy: PolicyHttpLive,
  identity: IdentityHttpLive,
  knowledge: KnowledgeHttpLive,
  compliance: ComplianceHttpLive,
  chain: ChainHttpLive,
  agentic: AgenticHttpLive,
  orchestrator: OrchestratorHttpLive,
  console: ConsoleHttpLive
} satisfies Record<ServiceName, unknown>
