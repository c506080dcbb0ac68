import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The orchestrator service's HTTP contract. */
export const OrchestratorApi = HttpApi.make("orchestrator")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me orchestrator")
  .annotate(OpenApi.Description, Services.orchestrator.description)
