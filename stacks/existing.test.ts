import { ServiceNames } from "../shared/ServiceCatalog.js"
import { stackPolicySuite } from "./offline/suite.js"

// The platform layer alone, on any cluster: the dev stack with `cloud: existing`.
stackPolicySuite("dev", {
  cloud: "existing",
  appNamespace: "brandme",
  gcpProject: "",
  regional: false,
  highAvailability: false,
  deletionProtection: false,
  replicas: Object.fromEntries([...ServiceNames, "orchestrator-beat"].map((n) => [n, 1])),
  hpas: {},
  configOverrides: { "brandme:cloud": "existing", "brandme:imageRepository": "ghcr.io/brandme/brandme" }
})
