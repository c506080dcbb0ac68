import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The console service's HTTP contract. */
export const ConsoleApi = HttpApi.make("console")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me console")
  .annotate(OpenApi.Description, Services.console.description)
