import { stackPolicySuite } from "./offline/suite.js"

// the guide's production values on AWS: the same platform layer as prod, on EKS / RDS / ElastiCache
stackPolicySuite("prod-aws", {
  cloud: "aws",
  appNamespace: "brandme",
  gcpProject: "",
  regional: true,
  highAvailability: true,
  deletionProtection: true,
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
  hpas: { gateway: [3, 10], brain: [2, 8], policy: [2, 6] },
  aws: { natGateways: 3 }
})
