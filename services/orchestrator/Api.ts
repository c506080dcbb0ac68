import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The orchestrator service's HTTP contract. */
export const OrchestratorApi = HttpApi.make("orchestrator")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me orchestrator")
  .annotate(OpenApi.Description, Services.orchestrator.description)

/**
 * For producers of scan jobs (the gateway): the persist_scan_event job shape, its queue, attempts and
 * jittered backoff, all from the orchestrator's routing table (the one place that says them).
 */
export { persistScanJobs, queueFor, TaskNames } from "./Routing.js"

/** For producers of audit entries (policy versions, jurisdiction changes): one append_audit_entry job. */
export { auditEntryJob } from "./Routing.js"
export type { AppendAuditEntry } from "./Payloads.js"
