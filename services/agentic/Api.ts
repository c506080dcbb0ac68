import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The agentic service's HTTP contract. */
export const AgenticApi = HttpApi.make("agentic")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me agentic")
  .annotate(OpenApi.Description, Services.agentic.description)
