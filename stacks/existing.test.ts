import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ServiceNames } from "../shared/ServiceCatalog.js"
import { stackPolicySuite } from "./offline/suite.js"

// The platform layer alone, on any cluster: the dev stack with `cloud: existing`, and an
// observability folder with nothing in it yet (the program must still build the releases).
const emptyObservability = fs.mkdtempSync(path.join(os.tmpdir(), "brandme-obs-"))
fs.mkdirSync(path.join(emptyObservability, "prometheus", "rules"), { recursive: true })

stackPolicySuite("dev", {
  cloud: "existing",
  appNamespace: "brandme",
  gcpProject: "",
  regional: false,
  highAvailability: false,
  deletionProtection: false,
  replicas: Object.fromEntries([...ServiceNames, "orchestrator-beat"].map((n) => [n, 1])),
  hpas: {},
  configOverrides: { "brandme:cloud": "existing", "brandme:imageRepository": "ghcr.io/brandme/brandme" },
  observabilityDir: emptyObservability
})
