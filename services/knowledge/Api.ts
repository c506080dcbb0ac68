import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The knowledge service's HTTP contract. */
export const KnowledgeApi = HttpApi.make("knowledge")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me knowledge")
  .annotate(OpenApi.Description, Services.knowledge.description)
