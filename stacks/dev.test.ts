import { ServiceNames } from "../shared/ServiceCatalog.js"
import { stackPolicySuite } from "./offline/suite.js"

// development: one pod per process, no autoscaling (so no PodDisruptionBudgets either)
stackPolicySuite("dev", {
  cloud: "gcp",
  appNamespace: "brandme",
  gcpProject: "brandme-dev",
  regional: false,
  highAvailability: false,
  deletionProtection: false,
  replicas: Object.fromEntries([...ServiceNames, "orchestrator-beat"].map((n) => [n, 1])),
  hpas: {}
})
