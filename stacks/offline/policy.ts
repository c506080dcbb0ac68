import { HealthPaths, isServiceName, Services } from "../../shared/ServiceCatalog.js"
import { isRecord } from "../../shared/Guards.js"
import type { RecordedResource } from "./harness.js"
import { isExporter, isSecretWrapper, type K8sObject, kubernetesObjects, plain } from "./render.js"

/**
 * Policy checks over the resources a program run registered. Each returns the violations it
 * found (empty = compliant), so a test names what is wrong and the checks can be tested on
 * deliberately bad input.
 */

export type Violations = ReadonlyArray<string>

const ofType = (rs: ReadonlyArray<RecordedResource>, type: string) => rs.filter((r) => r.type === type)
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const reveal = (r: RecordedResource): Record<string, unknown> => rec(plain(r.inputs, true))

export const checkGkeCluster = (rs: ReadonlyArray<RecordedResource>): Violations =>
  ofType(rs, "gcp:container/cluster:Cluster").flatMap((r) => {
    const i = reveal(r)
    const v: Array<string> = []
    if (rec(i.privateClusterConfig).enablePrivateNodes !== true) v.push(`${r.name}: nodes are not private`)
    if (typeof rec(i.workloadIdentityConfig).workloadPool !== "string") v.push(`${r.name}: no workload identity`)
    if (typeof rec(i.releaseChannel).channel !== "string") v.push(`${r.name}: no release channel`)
    const cidrs = arr(rec(i.masterAuthorizedNetworksConfig).cidrBlocks).map((b) => rec(b).cidrBlock)
    if (cidrs.length === 0) v.push(`${r.name}: no master authorized networks`)
    for (const c of cidrs) if (c === "0.0.0.0/0") v.push(`${r.name}: master authorized network 0.0.0.0/0`)
    return v
  })

export const checkNodePools = (rs: ReadonlyArray<RecordedResource>): Violations =>
  ofType(rs, "gcp:container/nodePool:NodePool").flatMap((r) => {
    const i = reveal(r)
    const v: Array<string> = []
    const a = rec(i.autoscaling)
    if (typeof a.minNodeCount !== "number" || typeof a.maxNodeCount !== "number") v.push(`${r.name}: no autoscaling`)
    if (rec(rec(i.nodeConfig).workloadMetadataConfig).mode !== "GKE_METADATA")
      v.push(`${r.name}: node metadata is not GKE_METADATA (workload identity)`)
    return v
  })

export interface DatabaseExpectations {
  readonly highAvailability: boolean
  readonly deletionProtection: boolean
}

export const checkCloudSql = (rs: ReadonlyArray<RecordedResource>, want: DatabaseExpectations): Violations => {
  const instances = ofType(rs, "gcp:sql/databaseInstance:DatabaseInstance")
  if (instances.length === 0) return ["no Cloud SQL instance"]
  return instances.flatMap((r) => {
    const i = reveal(r)
    const s = rec(i.settings)
    const ip = rec(s.ipConfiguration)
    const b = rec(s.backupConfiguration)
    const v: Array<string> = []
    if (i.databaseVersion !== "POSTGRES_15") v.push(`${r.name}: not POSTGRES_15`)
    if (ip.ipv4Enabled !== false) v.push(`${r.name}: public IPv4 enabled`)
    if (typeof ip.privateNetwork !== "string") v.push(`${r.name}: no private network`)
    if (s.diskType !== "PD_SSD" || s.diskSize !== 100) v.push(`${r.name}: not 100 GiB SSD`)
    if (b.enabled !== true || b.pointInTimeRecoveryEnabled !== true) v.push(`${r.name}: no backups with PITR`)
    if (want.highAvailability && s.availabilityType !== "REGIONAL") v.push(`${r.name}: not REGIONAL`)
    if (want.deletionProtection && (i.deletionProtection !== true || s.deletionProtectionEnabled !== true))
      v.push(`${r.name}: no deletion protection`)
    return v
  })
}

export const checkMemorystore = (rs: ReadonlyArray<RecordedResource>, wantHa: boolean): Violations => {
  const instances = ofType(rs, "gcp:redis/instance:Instance")
  const policies = instances.map((r) => rec(reveal(r).redisConfigs)["maxmemory-policy"])
  const v: Array<string> = []
  if (!policies.includes("noeviction")) v.push("no Redis instance with maxmemory-policy noeviction (queues)")
  if (!policies.includes("allkeys-lru")) v.push("no Redis cache instance with allkeys-lru")
  for (const r of instances) {
    const i = reveal(r)
    if (i.authEnabled !== true) v.push(`${r.name}: AUTH disabled`)
    if (i.transitEncryptionMode !== "SERVER_AUTHENTICATION") v.push(`${r.name}: no in-transit TLS`)
    if (wantHa && i.tier !== "STANDARD_HA") v.push(`${r.name}: not STANDARD_HA`)
    // the queue store holds accepted scans until they are persisted: it survives a node failure in every stack
    if (rec(i.redisConfigs)["maxmemory-policy"] === "noeviction") {
      if (!wantHa && i.tier !== "STANDARD_HA") v.push(`${r.name}: queue Redis not STANDARD_HA`)
      if (rec(i.persistenceConfig).persistenceMode !== "RDB") v.push(`${r.name}: queue Redis without persistence`)
    }
  }
  return v
}

const objectsOfKind = (rs: ReadonlyArray<RecordedResource>, kind: string): ReadonlyArray<K8sObject> =>
  kubernetesObjects(rs, true).flatMap(({ object }) => (object !== undefined && object.kind === kind ? [object] : []))

const podSpecOf = (o: K8sObject): Record<string, unknown> => rec(rec(rec(o.spec).template).spec)

/** Every Deployment container: non-root, hardened, sized, probed on the paths and port its service serves. */
export const checkContainers = (rs: ReadonlyArray<RecordedResource>): Violations =>
  objectsOfKind(rs, "Deployment")
    .filter((d) => !isExporter(d))
    .flatMap((d) => {
      const pod = podSpecOf(d)
      const podSc = rec(pod.securityContext)
      return arr(pod.containers).flatMap((c0) => {
        const c = rec(c0)
        const where = `Deployment ${d.metadata.name}/${String(c.name)}`
        const v: Array<string> = []
        const sc = rec(c.securityContext)
        if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) v.push(`${where}: runAsNonRoot not set`)
        if ((sc.runAsUser ?? podSc.runAsUser) !== 1000) v.push(`${where}: not uid 1000`)
        if (sc.readOnlyRootFilesystem !== true) v.push(`${where}: root filesystem writable`)
        if (sc.allowPrivilegeEscalation !== false) v.push(`${where}: privilege escalation allowed`)
        if (!arr(rec(sc.capabilities).drop).includes("ALL")) v.push(`${where}: capabilities not dropped`)
        if (!arr(c.volumeMounts).some((m) => rec(m).mountPath === "/tmp")) v.push(`${where}: no writable /tmp`)
        const res = rec(c.resources)
        for (const part of ["requests", "limits"])
          for (const what of ["cpu", "memory"])
            if (typeof rec(res[part])[what] !== "string") v.push(`${where}: no ${part}.${what}`)
        const service = arr(c.env)
          .map(rec)
          .find((e) => e.name === "SERVICE")?.value
        if (typeof service !== "string" || !isServiceName(service)) {
          v.push(`${where}: SERVICE env is not a catalog service`)
          return v
        }
        const port = Services[service].port
        const ports = arr(c.ports).map(rec)
        const resolve = (p: unknown) => (typeof p === "number" ? p : ports.find((x) => x.name === p)?.containerPort)
        const probes = {
          livenessProbe: HealthPaths.live,
          readinessProbe: HealthPaths.ready,
          startupProbe: HealthPaths.startup
        }
        for (const [probe, path] of Object.entries(probes)) {
          const get = rec(rec(c[probe]).httpGet)
          if (get.path !== path || resolve(get.port) !== port)
            v.push(
              `${where}: ${probe} is not GET ${path} on ${port} (got ${String(get.path)} on ${String(resolve(get.port))})`
            )
        }
        return v
      })
    })

const matches = (selector: unknown, labels: Record<string, unknown>): boolean =>
  Object.entries(rec(rec(selector).matchLabels)).every(([k, val]) => labels[k] === val)

export const checkPdbs = (rs: ReadonlyArray<RecordedResource>): Violations => {
  const pdbs = objectsOfKind(rs, "PodDisruptionBudget")
  return objectsOfKind(rs, "Deployment").flatMap((d) => {
    const replicas = rec(d.spec).replicas
    if (typeof replicas !== "number" || replicas <= 1) return []
    const labels = rec(rec(rec(rec(d.spec).template).metadata).labels)
    const covered = pdbs.some(
      (p) => p.metadata.namespace === d.metadata.namespace && matches(rec(p.spec).selector, labels)
    )
    return covered ? [] : [`Deployment ${d.metadata.name} has ${replicas} replicas and no PodDisruptionBudget`]
  })
}

export const checkDefaultDeny = (rs: ReadonlyArray<RecordedResource>): Violations => {
  const policies = objectsOfKind(rs, "NetworkPolicy")
  return objectsOfKind(rs, "Namespace").flatMap((ns) => {
    const denies = policies.some((p) => {
      const s = rec(p.spec)
      const types = arr(s.policyTypes)
      return (
        p.metadata.namespace === ns.metadata.name &&
        Object.keys(rec(s.podSelector)).length === 0 &&
        types.includes("Ingress") &&
        types.includes("Egress") &&
        s.ingress === undefined &&
        s.egress === undefined
      )
    })
    return denies ? [] : [`namespace ${ns.metadata.name} has no default deny-all NetworkPolicy`]
  })
}

/** Keys that must never carry a literal (non-secret) value. */
const SecretKeyNames = /^(password|adminPassword|secretData|authString|privateKey|apiKey|token|stringData)$/

/**
 * No secret in plain text: none of the run's secret values appears outside a Pulumi secret, and
 * no secret-named key holds a literal. References (secretKeyRef, existingSecret) are fine.
 */
export const checkNoPlaintextSecrets = (
  rs: ReadonlyArray<RecordedResource>,
  secretValues: ReadonlyArray<string>
): Violations => {
  const v: Array<string> = []
  const walk = (where: string, value: unknown, key: string): void => {
    if (isSecretWrapper(value)) return
    if (typeof value === "string") {
      for (const s of secretValues) if (value.includes(s)) v.push(`${where}: secret value in plain text at ${key}`)
      if (SecretKeyNames.test(key) && value.length > 0) v.push(`${where}: literal value for secret-named key ${key}`)
      return
    }
    if (Array.isArray(value)) {
      for (const [i, x] of value.entries()) walk(where, x, key === "" ? String(i) : key)
      return
    }
    if (isRecord(value)) {
      for (const [k, x] of Object.entries(value)) {
        if (SecretKeyNames.test(k) && isRecord(x) && !isSecretWrapper(x)) {
          // stringData / data maps: every entry must be a secret
          for (const [k2, x2] of Object.entries(x))
            if (!isSecretWrapper(x2) && x2 !== undefined) v.push(`${where}: literal value at ${k}.${k2}`)
          continue
        }
        walk(where, x, k)
      }
    }
  }
  for (const r of rs) walk(`${r.type} ${r.name}`, r.inputs, "")
  return v
}

/** Custom resources must name their provider explicitly: nothing may fall back to ambient credentials. */
export const checkExplicitProviders = (rs: ReadonlyArray<RecordedResource>): Violations =>
  rs
    .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
    .flatMap((r) =>
      r.provider === "" || r.provider.includes("::default_") ? [`${r.type} ${r.name} uses a default provider`] : []
    )
