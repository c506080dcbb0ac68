import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "../../shared/http/Health.js"
import { Services } from "../../shared/ServiceCatalog.js"

/** The compliance service's HTTP contract. */
export const ComplianceApi = HttpApi.make("compliance")
  .add(HealthApi)
  .annotate(OpenApi.Title, "Brand.Me compliance")
  .annotate(OpenApi.Description, Services.compliance.description)
