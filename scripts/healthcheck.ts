/**
 * The image's HEALTHCHECK: asks `/healthz` of the service SERVICE names, on its catalog port (+ PORT_OFFSET).
 * Exit 0 when it answers 2xx, 1 otherwise (a job, SERVICE=migrate, has no server and no check).
 */
import { HealthPaths, isServiceName, Services } from "../shared/ServiceCatalog.js"

const service = process.env.SERVICE ?? ""
const name = isServiceName(service) ? service : "gateway"
const port = Services[name].port + Number(process.env.PORT_OFFSET ?? "0")
fetch(`http://127.0.0.1:${port}${HealthPaths.simple}`, { signal: AbortSignal.timeout(2500) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1)
)
