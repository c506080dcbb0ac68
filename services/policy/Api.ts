import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The policy service's HTTP contract. */
export const PolicyApi = HttpApi.make("policy")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me policy")
  .annotate(OpenApi.Description, Services.policy.description)
