import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { callersOf, HealthPaths, ServiceNames, Services } from "../../shared/ServiceCatalog.js"
import { ExporterDeployments } from "../components/Exporters.js"
import { IngressGeoHeader, IngressNamespace } from "../components/Ingress.js"
import { ServiceLabel } from "../components/Workload.js"
import { readObservabilityFiles } from "../observabilityFiles.js"
import { mirroredSecrets } from "../secrets.js"
import { type AwsExpectations, awsStackChecks } from "./awsSuite.js"
import { checkReleaseValues, helmReleases } from "./chartValues.js"
import { checkWiring } from "./chartWiring.js"
import { type ProgramRun, resourceKey, runStack } from "./harness.js"
import { networkPolicies, type Pod, reaches } from "./networkPolicy.js"
import * as policy from "./policy.js"
import { isExporter, kubernetesObjects, plain } from "./render.js"
import { validateObject } from "./schema.js"
import { checkWorkloads, renderedWorkloads } from "./workloadEnv.js"

export interface StackExpectations {
  readonly cloud: "gcp" | "aws" | "existing"
  readonly appNamespace: string
  readonly gcpProject: string
  readonly regional: boolean
  readonly highAvailability: boolean
  readonly deletionProtection: boolean
  /** Deployment name → replicas */
  readonly replicas: Readonly<Record<string, number>>
  readonly hpas: Readonly<Record<string, readonly [number, number]>>
  /** config on top of the stack file (e.g. the same stack on an existing cluster) */
  readonly configOverrides?: Record<string, string>
  /** another observability folder (e.g. an empty one) */
  readonly observabilityDir?: string
  /** cloud aws: what the AWS layer must show (stacks/offline/awsSuite.ts) */
  readonly aws?: Omit<AwsExpectations, "appNamespace" | "highAvailability" | "deletionProtection">
}

const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? { ...v } : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const containersOf = (d: unknown): ReadonlyArray<Record<string, unknown>> =>
  arr(rec(rec(rec(rec(d).spec).template).spec).containers).map(rec)

/**
 * The policy tests every stack must pass. Call once per test file: the Pulumi runtime is
 * process-global, and vitest runs each test file in its own process.
 */
export const stackPolicySuite = (stack: string, want: StackExpectations): void => {
  describe(`stack ${stack} (cloud ${want.cloud})`, () => {
    let run: ProgramRun
    beforeAll(async () => {
      run = await runStack(stack, {
        ...(want.configOverrides === undefined ? {} : { configOverrides: want.configOverrides }),
        ...(want.observabilityDir === undefined ? {} : { observabilityDir: want.observabilityDir })
      })
    }, 120_000)

    // the catalog's workloads: every Deployment but the exporters (checked in stacks/monitoring.test.ts)
    const objects = (kind: string) =>
      kubernetesObjects(run.resources, true).flatMap(({ object }) =>
        object?.kind === kind && !(kind === "Deployment" && isExporter(object)) ? [object] : []
      )

    if (want.cloud === "existing") {
      it("cloud existing: no cloud resources; Secrets from the encrypted config instead of Secret Manager", () => {
        expect(run.resources.filter((r) => r.type.startsWith("gcp:"))).toEqual([])
        expect(run.resources.filter((r) => r.type.startsWith("kubernetes:external-secrets.io"))).toEqual([])
        const secrets = objects("Secret")
        expect(secrets.map((s) => s.metadata.name)).toContain("brandme-database-url")
      })
    }

    if (want.cloud === "aws") {
      awsStackChecks(() => run, { ...want, natGateways: want.aws?.natGateways ?? 3 })
    }

    if (want.cloud === "gcp") {
      it("GKE: private nodes, workload identity, release channel, no 0.0.0.0/0 on the control plane", () => {
        expect(run.resources.filter((r) => r.type === "gcp:container/cluster:Cluster")).toHaveLength(1)
        expect(policy.checkGkeCluster(run.resources)).toEqual([])
        expect(policy.checkNodePools(run.resources)).toEqual([])
      })

      it(`GKE and its node pool are ${want.regional ? "regional" : "zonal"}`, () => {
        const locations = run.resources
          .filter((r) => r.type === "gcp:container/cluster:Cluster" || r.type === "gcp:container/nodePool:NodePool")
          .map((r) => String(r.inputs.location))
        expect(locations).toHaveLength(2)
        for (const l of locations) expect(/-[a-z]$/.test(l)).toBe(!want.regional)
      })

      it("Cloud SQL: Postgres 15, private IP only, SSD, backups + PITR (+ REGIONAL and deletion protection in prod)", () => {
        expect(policy.checkCloudSql(run.resources, want)).toEqual([])
      })

      it("Memorystore: AUTH + TLS on both; the queue instance never evicts", () => {
        expect(run.resources.filter((r) => r.type === "gcp:redis/instance:Instance")).toHaveLength(2)
        expect(policy.checkMemorystore(run.resources, want.highAvailability)).toEqual([])
      })

      it("Secret Manager: each secret readable only by the workloads' GSA, bound to the workloads' KSA", () => {
        const secrets = run.resources.filter((r) => r.type === "gcp:secretmanager/secret:Secret")
        const members = run.resources.filter((r) => r.type === "gcp:secretmanager/secretIamMember:SecretIamMember")
        expect(secrets.length).toBeGreaterThan(0)
        expect(members).toHaveLength(secrets.length)
        for (const m of members) {
          expect(m.inputs.role).toBe("roles/secretmanager.secretAccessor")
          expect(m.inputs.member).toBe("serviceAccount:brandme-workloads@mock-project.iam.gserviceaccount.com")
        }
        const wi = run.resources.filter((r) => r.type === "gcp:serviceaccount/iAMMember:IAMMember")
        expect(wi.map((r) => [r.inputs.role, r.inputs.member])).toEqual([
          [
            "roles/iam.workloadIdentityUser",
            `serviceAccount:${want.gcpProject}.svc.id.goog[${want.appNamespace}/brandme-workloads]`
          ]
        ])
      })
    }

    it("every catalog service runs, with the guide's replicas and autoscaling", () => {
      const deployments = objects("Deployment")
      const names = deployments.map((d) => d.metadata.name).sort()
      expect(names).toEqual([...ServiceNames, "orchestrator-beat"].sort())
      for (const d of deployments) {
        expect(d.metadata.namespace).toBe(want.appNamespace)
        expect(rec(d.spec).replicas).toBe(want.replicas[d.metadata.name])
      }
      const hpas = Object.fromEntries(
        objects("HorizontalPodAutoscaler").map((h) => [
          h.metadata.name,
          [rec(h.spec).minReplicas, rec(h.spec).maxReplicas]
        ])
      )
      expect(hpas).toEqual(want.hpas)
      const roles = deployments
        .filter((d) => d.metadata.name.startsWith("orchestrator"))
        .map((d) =>
          containersOf(d)
            .flatMap((c) => arr(c.env).map(rec))
            .find((e) => e.name === "ORCHESTRATOR_ROLE")
        )
        .map((e) => String(e?.value))
        .sort()
      expect(roles).toEqual(["beat", "worker"])
    })

    it("privacy: GDPR is never turned off, and the gateway reads the region header our ingress overwrites", () => {
      const env = (name: string) =>
        objects("Deployment").flatMap((d) =>
          containersOf(d).flatMap((c) =>
            arr(c.env)
              .map(rec)
              .filter((e) => e.name === name)
          )
        )
      expect(env("GDPR_ENABLED").filter((e) => e.value !== "true")).toEqual([])
      const headers = env("GEO_REGION_HEADER").map((e) => e.value)
      expect(headers.length).toBe(objects("Deployment").length)
      expect(new Set(headers)).toEqual(new Set([IngressGeoHeader]))
      const nginx = run.resources.find((r) => r.type.includes("helm") && r.name === "ingress-nginx")
      expect(JSON.stringify(nginx?.inputs)).toContain(`"proxySetHeaders":{"${IngressGeoHeader}":""}`)
    })

    it("every container: non-root, hardened, requests + limits, the three probes on the catalog's paths and port", () => {
      expect(policy.checkContainers(run.resources)).toEqual([])
      // the check reads ports and paths from the catalog: prove it sees what it checks
      const gw = objects("Deployment").find((d) => d.metadata.name === "gateway")
      const c = rec(containersOf(gw)[0])
      expect(rec(rec(c.readinessProbe).httpGet).path).toBe(HealthPaths.ready)
      expect(rec(arr(c.ports)[0]).containerPort).toBe(Services.gateway.port)
    })

    it("every container's memory request, limit and V8 flags are its service's measured ones (catalog `memory`)", () => {
      const deployments = objects("Deployment")
      expect(deployments.length).toBeGreaterThan(0)
      for (const d of deployments) {
        const service = ServiceNames.find((n) => n === rec(d.metadata.labels)["app.kubernetes.io/component"])
        expect(service, d.metadata.name).toBeDefined()
        const { requestMiB, limitMiB, nodeOptions } = Services[service ?? "gateway"].memory
        const c = rec(containersOf(d)[0])
        expect(rec(rec(c.resources).requests).memory, d.metadata.name).toBe(`${requestMiB}Mi`)
        expect(rec(rec(c.resources).limits).memory, d.metadata.name).toBe(`${limitMiB}Mi`)
        const env = arr(c.env).map(rec)
        expect(env.find((e) => e.name === "NODE_OPTIONS")?.value, d.metadata.name).toBe(nodeOptions)
      }
    })

    it("a PodDisruptionBudget for every Deployment with more than one replica", () => {
      expect(policy.checkPdbs(run.resources)).toEqual([])
    })

    it("a default deny-all NetworkPolicy in each namespace; internet egress only for the chain pod", () => {
      expect(
        objects("Namespace")
          .map((n) => n.metadata.name)
          .sort()
      ).toEqual(["brandme", "brandme-staging", "observability"])
      expect(policy.checkDefaultDeny(run.resources)).toEqual([])
      const wide = objects("NetworkPolicy").filter(
        (p) => p.metadata.namespace === want.appNamespace && JSON.stringify(p.spec).includes("0.0.0.0/0")
      )
      expect(wide.map((p) => rec(rec(p.spec).podSelector).matchLabels)).toEqual([{ "app.kubernetes.io/name": "chain" }])
    })

    it("each service port admits exactly the pods of its declared callers; the ingress reaches the gateway only", () => {
      const policies = networkPolicies(run.resources)
      // every workload's pods as rendered (the orchestrator's worker and beat are both orchestrator pods)
      const pods = objects("Deployment").map((d) => ({
        namespace: d.metadata.namespace ?? "",
        labels: Object.fromEntries(
          Object.entries(rec(rec(rec(rec(d.spec).template).metadata).labels)).map(([k, v]) => [k, String(v)])
        )
      }))
      const podsOf = (service: string): ReadonlyArray<Pod> => pods.filter((p) => p.labels[ServiceLabel] === service)
      const pairs: Array<string> = []
      for (const callee of ServiceNames)
        for (const to of podsOf(callee))
          for (const caller of ServiceNames)
            for (const from of podsOf(caller))
              if (reaches(policies, from, to, Services[callee].port)) pairs.push(`${caller} → ${callee}`)
      const declared = ServiceNames.flatMap((callee) =>
        callersOf(callee).flatMap((caller) =>
          podsOf(caller).flatMap(() => podsOf(callee).map(() => `${caller} → ${callee}`))
        )
      )
      expect(pairs.sort()).toEqual(declared.sort())
      expect(new Set(pairs).size).toBe(ServiceNames.reduce((n, s) => n + callersOf(s).length, 0))
      // from outside the app namespace: the ingress controller reaches the gateway's port and no other
      const ingress: Pod = { namespace: IngressNamespace, labels: { "app.kubernetes.io/name": "ingress-nginx" } }
      const stranger: Pod = { namespace: "default", labels: { "app.kubernetes.io/part-of": "brandme" } }
      for (const service of ServiceNames)
        for (const to of podsOf(service)) {
          expect(reaches(policies, ingress, to, Services[service].port), `ingress → ${service}`).toBe(
            service === "gateway"
          )
          expect(reaches(policies, stranger, to, Services[service].port), `default namespace → ${service}`).toBe(false)
        }
    })

    it("the migration Job runs before every Deployment (dependsOn)", () => {
      const job = run.resources.find((r) => r.type === "kubernetes:batch/v1:Job")
      expect(job).toBeDefined()
      const jobKey = resourceKey("kubernetes:batch/v1:Job", job?.name ?? "")
      const container = rec(rec(rec(rec(rec(plain(job?.inputs)).spec).template).spec).containers)
      expect(JSON.stringify(container)).toContain('"command":["node","dist/migrations/cli.js","up"]')
      expect(JSON.stringify(container)).toContain('{"name":"SERVICE","value":"migrate"}')
      const deployments = run.resources.filter(
        (r) => r.type === "kubernetes:apps/v1:Deployment" && !ExporterDeployments.some((e) => e.name === r.name)
      )
      expect(deployments.length).toBe(11)
      for (const d of deployments) expect(d.dependsOn).toContain(jobKey)
    })

    it("secrets reach pods only through secretKeyRef; no secret value in plain text anywhere", () => {
      expect(policy.checkNoPlaintextSecrets(run.resources, run.secretValues)).toEqual([])
      // the scan can see the secrets: each one is present, wrapped as a Pulumi secret
      const everything = JSON.stringify(run.resources.map((r) => r.inputs))
      // the config keys a cloud does not read (cloud aws: its own AUTH tokens, not Memorystore's)
      const unused =
        want.cloud === "gcp"
          ? /databaseUrl|redisUrl|redisQueueUrl|AuthToken/
          : want.cloud === "aws"
            ? /databaseUrl|redisUrl|redisQueueUrl|mock-redis-auth/
            : /databasePassword|redis-auth|AuthToken|jwtSecret/
      const used = run.secretValues.filter((v) => !unused.test(v))
      expect(used.length).toBeGreaterThan(8)
      for (const v of used) expect(everything).toContain(v)
      const env = objects("Deployment").flatMap((d) => containersOf(d).flatMap((c) => arr(c.env).map(rec)))
      for (const name of ["DATABASE_URL", "REDIS_URL", "REDIS_QUEUE_URL", "JWT_PUBLIC_KEY"]) {
        const vars = env.filter((e) => e.name === name)
        expect(vars.length).toBeGreaterThan(0)
        for (const e of vars) {
          expect(e.value).toBeUndefined()
          expect(rec(rec(e.valueFrom).secretKeyRef).key).toBe("value")
        }
      }
    })

    it("every workload's env passes its own service's configuration (plan time, secret refs standing for values)", () => {
      const workloads = renderedWorkloads(run.resources)
      expect(workloads.map((w) => w.name).sort()).toEqual(
        [...Object.keys(want.replicas), workloads.find((w) => w.kind === "Job")?.name ?? "no migration Job"].sort()
      )
      expect(checkWorkloads(stack, workloads)).toEqual([])
    })

    it("the plan check fails on a value a service rejects and on a secret a workload needs and does not get", () => {
      const workloads = renderedWorkloads(run.resources)
      const gateway = workloads.find((w) => w.name === "gateway")!
      const refs = new Map(gateway.secretRefs)
      refs.delete("PII_MASTER_KEY")
      const planted = [
        { ...gateway, env: { ...gateway.env, DATABASE_SSL: "true" } },
        { ...gateway, secretRefs: refs }
      ]
      const problems = checkWorkloads(stack, planted)
      expect(problems.find((p) => p.includes("DATABASE_SSL"))).toMatch(
        new RegExp(`^stack ${stack}, deployment gateway: invalid configuration: .*DATABASE_SSL`)
      )
      expect(problems).toContain(
        `stack ${stack}, deployment gateway: PII_MASTER_KEY: not given, and gateway reads it (a secret it needs)`
      )
      // and a workload given a secret its service does not read
      const brain = workloads.find((w) => w.name === "brain")!
      const extra = new Map(brain.secretRefs).set("CHAIN_SIGNING_KEY", {
        secret: "brandme-chain-signing-key",
        key: "value"
      })
      expect(checkWorkloads(stack, [{ ...brain, secretRefs: extra }])).toEqual([
        `stack ${stack}, deployment brain: CHAIN_SIGNING_KEY: given, but brain does not read it (least privilege)`
      ])
    })

    it("every Kubernetes object validates against the Kubernetes schema", () => {
      const all = kubernetesObjects(run.resources, true)
      expect(all.filter((o) => o.object === undefined).map((o) => o.resource.name)).toEqual([])
      expect(all.flatMap((o) => (o.object === undefined ? [] : validateObject(o.object)))).toEqual([])
    })

    it("every Helm release's values: keys of the pinned chart, of its default's type, valid for its schema", () => {
      expect(checkReleaseValues(helmReleases(run.resources))).toEqual([])
    })

    it("charts and our objects agree: data source uids and ports, dashboard labels, ServiceMonitor ports, storage on volumes", () => {
      const all = kubernetesObjects(run.resources, true).flatMap(({ object }) => (object === undefined ? [] : [object]))
      expect(checkWiring(helmReleases(run.resources), all)).toEqual([])
    })

    it("every resource names its provider explicitly", () => {
      expect(policy.checkExplicitProviders(run.resources)).toEqual([])
    })

    it("observability: the releases, a PrometheusRule per rule file, a dashboard ConfigMap per dashboard", () => {
      const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.name)
      for (const r of [
        "kube-prometheus-stack",
        "loki",
        "tempo",
        "otel-collector",
        "nats",
        "ingress-nginx",
        "cert-manager"
      ])
        expect(releases).toContain(r)
      const files = readObservabilityFiles(want.observabilityDir)
      const dashboards = objects("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard === "1")
      expect(dashboards).toHaveLength(files.dashboards.length)
      for (const d of dashboards) expect(Object.keys(rec(d.data))).toHaveLength(1)
      expect(
        objects("PrometheusRule")
          .map((r) => r.metadata.name)
          .sort()
      ).toEqual(files.rules.map((r) => r.name).sort())
    })

    it("Alertmanager's receiver credential files are keys of the Secret mounted where it reads them", () => {
      const files = readObservabilityFiles(want.observabilityDir)
      const kps = run.resources.find((r) => r.name === "kube-prometheus-stack")
      const am = rec(rec(rec(plain(kps?.inputs)).values).alertmanager)
      const fileRefs: Array<string> = []
      const collect = (v: unknown): void => {
        if (Array.isArray(v)) for (const x of v) collect(x)
        else if (typeof v === "object" && v !== null)
          for (const [k, x] of Object.entries(v)) {
            if (k.endsWith("_file") && typeof x === "string") fileRefs.push(x)
            else collect(x)
          }
      }
      collect(am.config)
      if (files.alertmanager !== undefined) expect(fileRefs.length).toBeGreaterThan(0)
      const spec = rec(am.alertmanagerSpec)
      const mountPath = rec(arr(spec.volumeMounts)[0]).mountPath
      const secretName = rec(rec(arr(spec.volumes)[0]).secret).secretName
      const keys = mirroredSecrets()
        .find((m) => m.secret === secretName)
        ?.entries.map((e) => e.key)
      for (const f of fileRefs) {
        expect(path.posix.dirname(f)).toBe(mountPath)
        expect(keys).toContain(path.posix.basename(f))
      }
    })
  })
}
