import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The gateway service's HTTP contract. */
export const GatewayApi = HttpApi.make("gateway")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me gateway")
  .annotate(OpenApi.Description, Services.gateway.description)
