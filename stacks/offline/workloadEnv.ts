import { defaultTarget, execForm, readDockerfile } from "../../scripts/ops/Dockerfile.js"
import { checkProcessEnv } from "../../services/ServiceConfig.js"
import { isServiceName, type ProcessName } from "../../shared/ServiceCatalog.js"
import type { RecordedResource } from "./harness.js"
import { isExporter, kubernetesObjects } from "./render.js"

/**
 * Each rendered workload (Deployment or Job) as what its container process gets: the image's ENV under
 * the manifest's env, the variables it receives by secretKeyRef, its command, probes and grace period.
 * The stack tests, `npm run stack:plan` and the topology test read workloads through this.
 */
export interface RenderedWorkload {
  readonly kind: "Deployment" | "Job"
  readonly name: string
  readonly namespace: string
  readonly process: ProcessName
  /** the image's ENV (the Dockerfile's default target) overlaid by the manifest's literal env */
  readonly env: Readonly<Record<string, string>>
  /** env variable → the Secret and key it is read from */
  readonly secretRefs: ReadonlyMap<string, { readonly secret: string; readonly key: string }>
  /** the container's argv (the manifest's command, else the image's CMD) */
  readonly command: ReadonlyArray<string>
  readonly port: number | undefined
  readonly probes: { readonly startup?: string; readonly readiness?: string; readonly liveness?: string }
  readonly terminationGracePeriodSeconds: number
  readonly volumeMounts: ReadonlyArray<{ readonly name: string; readonly mountPath: string }>
}

const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? { ...v } : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined)

const asProcess = (service: string | undefined, workload: string): ProcessName => {
  if (service === "migrate") return "migrate"
  if (service !== undefined && isServiceName(service)) return service
  throw new Error(`workload ${workload}: SERVICE=${String(service)} is no catalog service or job`)
}

export const renderedWorkloads = (resources: ReadonlyArray<RecordedResource>): ReadonlyArray<RenderedWorkload> => {
  const image = defaultTarget(readDockerfile())
  const cmd = image.stage.instructions.findLast((i) => i.op === "CMD")?.args
  const imageCommand = cmd === undefined ? [] : execForm(cmd)
  return kubernetesObjects(resources, true).flatMap(({ object }) => {
    if (object === undefined || (object.kind !== "Deployment" && object.kind !== "Job") || isExporter(object)) return []
    const pod = rec(rec(rec(object.spec).template).spec)
    const c = rec(arr(pod.containers)[0])
    const env: Record<string, string> = { ...image.env }
    const secretRefs = new Map<string, { secret: string; key: string }>()
    for (const e of arr(c.env).map(rec)) {
      const name = str(e.name) ?? ""
      const ref = rec(rec(e.valueFrom).secretKeyRef)
      if (e.valueFrom !== undefined) secretRefs.set(name, { secret: str(ref.name) ?? "", key: str(ref.key) ?? "" })
      else env[name] = str(e.value) ?? ""
    }
    const probe = (p: unknown) => str(rec(rec(p).httpGet).path)
    const port = rec(arr(c.ports)[0]).containerPort
    return [
      {
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace ?? "default",
        process: asProcess(env.SERVICE, object.metadata.name),
        env,
        secretRefs,
        command: c.command === undefined ? imageCommand : arr(c.command).map((x) => String(x)),
        port: typeof port === "number" ? port : undefined,
        probes: {
          ...(probe(c.startupProbe) === undefined ? {} : { startup: probe(c.startupProbe)! }),
          ...(probe(c.readinessProbe) === undefined ? {} : { readiness: probe(c.readinessProbe)! }),
          ...(probe(c.livenessProbe) === undefined ? {} : { liveness: probe(c.livenessProbe)! })
        },
        terminationGracePeriodSeconds: Number(pod.terminationGracePeriodSeconds ?? 30),
        volumeMounts: arr(c.volumeMounts).map((m) => ({
          name: str(rec(m).name) ?? "",
          mountPath: str(rec(m).mountPath) ?? ""
        }))
      }
    ]
  })
}

/** Every workload's env checked with its service's own configuration: one line per problem, naming stack, workload, variable. */
export const checkWorkloads = (stack: string, workloads: ReadonlyArray<RenderedWorkload>): ReadonlyArray<string> =>
  workloads.flatMap((w) =>
    checkProcessEnv({ process: w.process, env: w.env, secretRefs: new Set(w.secretRefs.keys()) }).map(
      (p) => `stack ${stack}, ${w.kind.toLowerCase()} ${w.name}: ${p}`
    )
  )
