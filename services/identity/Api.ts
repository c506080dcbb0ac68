import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The identity service's HTTP contract. */
export const IdentityApi = HttpApi.make("identity")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me identity")
  .annotate(OpenApi.Description, Services.identity.description)
