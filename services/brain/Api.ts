import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The brain service's HTTP contract. */
export const BrainApi = HttpApi.make("brain")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me brain")
  .annotate(OpenApi.Description, Services.brain.description)
