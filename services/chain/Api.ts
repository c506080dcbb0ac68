import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The chain service's HTTP contract. */
export const ChainApi = HttpApi.make("chain")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me chain")
  .annotate(OpenApi.Description, Services.chain.description)
