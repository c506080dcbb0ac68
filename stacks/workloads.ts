import { callUrlVariable, type ServiceName, ServiceNames, Services } from "../shared/ServiceCatalog.js"
import type { WorkloadProfile } from "./config.js"

/**
 * How many pods of what size each service runs (the guide's Helm values, section 6, and its
 * "Resource Limits" table). Ports and health paths are not here: they come from ServiceCatalog.
 */

export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string }
  readonly limits: { readonly cpu: string; readonly memory: string }
}

export interface WorkloadSpec {
  /** Deployment (and Service) name */
  readonly name: string
  /** the ServiceCatalog entry: port, health paths, SERVICE env */
  readonly service: ServiceName
  readonly replicas: number
  readonly autoscale: { readonly min: number; readonly max: number } | undefined
  readonly resources: Resources
  readonly extraEnv: Readonly<Record<string, string>>
  /** the beat scheduler must never run twice, even during a rollout */
  readonly singleton: boolean
}

/** CPU per profile (the guide's "Resource Limits" table); memory is the service's own (`resourcesOf`) */
interface Cpu {
  readonly request: string
  readonly limit: string
}
const standard: Cpu = { request: "250m", limit: "500m" }
// brain: 500m in development, up to 1 CPU in production
const brainProd: Cpu = { request: "500m", limit: "1" }

/**
 * A pod's memory request and limit: one process's measured figures (ServiceCatalog `memory`, from
 * `npm run bench:memory`), the same in every environment — replicas, not pod size, follow the load.
 */
const resourcesOf = (service: ServiceName, cpu: Cpu): Resources => {
  const { requestMiB, limitMiB } = Services[service].memory
  return {
    requests: { cpu: cpu.request, memory: `${requestMiB}Mi` },
    limits: { cpu: cpu.limit, memory: `${limitMiB}Mi` }
  }
}

interface Row {
  readonly replicas: number
  readonly autoscale?: { readonly min: number; readonly max: number }
  readonly cpu?: Cpu
}

const production: Readonly<Record<ServiceName, Row>> = {
  gateway: { replicas: 3, autoscale: { min: 3, max: 10 } },
  brain: { replicas: 2, autoscale: { min: 2, max: 8 }, cpu: brainProd },
  policy: { replicas: 2, autoscale: { min: 2, max: 6 } },
  identity: { replicas: 2 },
  knowledge: { replicas: 2 },
  compliance: { replicas: 2 },
  chain: { replicas: 2 },
  // one consumer sees the whole event stream in order, which keeps its time windows simple;
  // JetStream's durable consumer replays what it missed after a restart
  agentic: { replicas: 1 },
  orchestrator: { replicas: 4 },
  console: { replicas: 2 }
}

const rowFor = (profile: WorkloadProfile, service: ServiceName): Row => {
  const row = production[service]
  if (profile === "production") return row
  // development: one pod each, no autoscaling, the guide's development sizes
  return { replicas: 1 }
}

/** A Service's in-cluster DNS name (the Service is named after the catalog service). */
export const clusterHost = (service: string, namespace: string): string => `${service}.${namespace}.svc.cluster.local`

/**
 * The base URL of every service a service calls (shared/ServiceCatalog.ts `calls`), at the host name the
 * shape gives it (a Service's cluster DNS name; a compose service name).
 */
export const callEnv = (service: ServiceName, hostOf: (s: ServiceName) => string): Readonly<Record<string, string>> =>
  Object.fromEntries(
    Services[service].calls.map((callee) => [
      callUrlVariable(callee),
      `http://${hostOf(callee)}:${Services[callee].port}`
    ])
  )

/** The workloads of every shape (stacks and compose): one per service, the orchestrator as worker and beat. */
export const workloadsFor = (
  profile: WorkloadProfile,
  hostOf: (s: ServiceName) => string
): ReadonlyArray<WorkloadSpec> =>
  ServiceNames.flatMap((service): ReadonlyArray<WorkloadSpec> => {
    const row = rowFor(profile, service)
    const calls = callEnv(service, hostOf)
    const base: WorkloadSpec = {
      name: service,
      service,
      replicas: row.replicas,
      autoscale: row.autoscale,
      resources: resourcesOf(service, row.cpu ?? standard),
      extraEnv: { ...calls, NODE_OPTIONS: Services[service].memory.nodeOptions },
      singleton: false
    }
    if (service !== "orchestrator") return [base]
    return [
      { ...base, extraEnv: { ...base.extraEnv, ORCHESTRATOR_ROLE: "worker" } },
      {
        ...base,
        name: "orchestrator-beat",
        replicas: 1,
        extraEnv: { ...base.extraEnv, ORCHESTRATOR_ROLE: "beat" },
        singleton: true
      }
    ]
  })
