import { ServiceNames } from "../shared/ServiceCatalog.js"
import { stackPolicySuite } from "./offline/suite.js"

// development on AWS: one pod per process, one NAT gateway, single-AZ RDS; the queue Redis still fails over
stackPolicySuite("dev-aws", {
  cloud: "aws",
  appNamespace: "brandme",
  gcpProject: "",
  regional: false,
  highAvailability: false,
  deletionProtection: false,
  replicas: Object.fromEntries([...ServiceNames, "orchestrator-beat"].map((n) => [n, 1])),
  hpas: {},
  aws: { natGateways: 1 }
})
