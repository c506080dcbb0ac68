import { stackPolicySuite } from "./offline/suite.js"

// production shape on a zonal cluster without the prod-only data-service protections
stackPolicySuite("staging", {
  cloud: "gcp",
  appNamespace: "brandme-staging",
  gcpProject: "brandme-staging",
  regional: false,
  highAvailability: false,
  deletionProtection: false,
  replicas: {
    gateway: 3,
    brain: 2,
    policy: 2,
    identity: 2,
    knowledge: 2,
    compliance: 2,
    chain: 2,
    agentic: 1,
    orchestrator: 4,
    "orchestrator-beat": 1,
    console: 2
  },
  hpas: { gateway: [3, 10], brain: [2, 8], policy: [2, 6] }
})
