/**
 * Offline plan of a Pulumi stack: runs the program under mocks (no Pulumi CLI, no cloud), prints
 * the resource tree with each resource's key settings, and writes every Kubernetes object as YAML
 * (`<kind>-<namespace>-<name>.yaml`, secrets masked) rendered from the registered inputs, and checks every
 * workload's env with its own service's configuration (exit 1 naming stack, workload and variable).
 *
 *   npm run stack:plan -- --stack prod --out /tmp/plan-prod
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { stringify } from "yaml"
import { isRecord } from "../shared/Guards.js"
import { type RecordedResource, resourceKey, runStack } from "../stacks/offline/harness.js"
import { kubernetesObjects, manifestFileName, plain } from "../stacks/offline/render.js"
import { checkWorkloads, renderedWorkloads } from "../stacks/offline/workloadEnv.js"

const Stacks = ["dev", "staging", "prod", "dev-aws", "prod-aws"] as const

const usage = `usage: npm run stack:plan -- --stack <${Stacks.join("|")}> [--out <dir>] [--cloud existing] [--config key=value ...]

Runs the Pulumi program offline (pulumi.runtime.setMocks, fake secrets), prints the resource tree
and, with --out, writes one YAML file per Kubernetes object into <dir> (existing *.yaml there are
replaced) plus the Helm releases' values into <dir>/helm-releases/.
  --stack   stack to plan (reads Pulumi.yaml defaults + Pulumi.<stack>.yaml)
  --out     manifests folder
  --cloud   override brandme:cloud (e.g. existing: the platform layer alone; needs --config imageRepository=...)
  --config  override any brandme: config key, repeatable (e.g. --config imageTag=1.2.3)
  --help    this text`

const fail = (message: string): never => {
  console.error(message)
  process.exit(1)
}

const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const str = (v: unknown): string =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "-"

/** The settings an operator reviews, per resource type. */
const settings = (r: RecordedResource): string => {
  const i = rec(plain(r.inputs))
  const spec = rec(i.spec)
  const meta = rec(i.metadata)
  const ns = meta.namespace === undefined ? "" : `ns=${str(meta.namespace)} `
  switch (r.type) {
    case "gcp:container/cluster:Cluster": {
      const cidrs = arr(rec(i.masterAuthorizedNetworksConfig).cidrBlocks).map((b) => str(rec(b).cidrBlock))
      return `location=${str(i.location)} privateNodes=${str(rec(i.privateClusterConfig).enablePrivateNodes)} channel=${str(rec(i.releaseChannel).channel)} workloadPool=${str(rec(i.workloadIdentityConfig).workloadPool)} authorizedNetworks=${cidrs.join(",")}`
    }
    case "gcp:container/nodePool:NodePool": {
      const a = rec(i.autoscaling)
      return `location=${str(i.location)} machine=${str(rec(i.nodeConfig).machineType)} autoscaling=${str(a.minNodeCount)}..${str(a.maxNodeCount)}`
    }
    case "gcp:sql/databaseInstance:DatabaseInstance": {
      const s = rec(i.settings)
      const b = rec(s.backupConfiguration)
      return `${str(i.databaseVersion)} tier=${str(s.tier)} availability=${str(s.availabilityType)} disk=${str(s.diskSize)}GiB ${str(s.diskType)} publicIp=${str(rec(s.ipConfiguration).ipv4Enabled)} backups=${str(b.enabled)} pitr=${str(b.pointInTimeRecoveryEnabled)} deletionProtection=${str(i.deletionProtection)}`
    }
    case "gcp:redis/instance:Instance":
      return `tier=${str(i.tier)} memory=${str(i.memorySizeGb)}GiB maxmemory-policy=${str(rec(i.redisConfigs)["maxmemory-policy"])} auth=${str(i.authEnabled)} tls=${str(i.transitEncryptionMode)}`
    case "gcp:compute/subnetwork:Subnetwork":
      return `${str(i.ipCidrRange)} secondary=${arr(i.secondaryIpRanges)
        .map((x) => `${str(rec(x).rangeName)}:${str(rec(x).ipCidrRange)}`)
        .join(",")}`
    case "gcp:secretmanager/secret:Secret":
      return `secretId=${str(i.secretId)}`
    case "gcp:secretmanager/secretIamMember:SecretIamMember":
    case "gcp:serviceaccount/iAMMember:IAMMember":
    case "gcp:projects/iAMMember:IAMMember":
      return `${str(i.role)} → ${str(i.member)}`
    // cloud aws
    case "aws:ec2/subnet:Subnet":
      return `${str(i.cidrBlock)} zone=${str(i.availabilityZone)} tier=${str(rec(i.tags).tier)} publicIpOnLaunch=${str(i.mapPublicIpOnLaunch)}`
    case "aws:eks/cluster:Cluster": {
      const v = rec(i.vpcConfig)
      return `version=${str(i.version)} privateEndpoint=${str(v.endpointPrivateAccess)} publicEndpoint=${str(v.endpointPublicAccess)} publicCidrs=${arr(v.publicAccessCidrs).map(str).join(",") || "-"} secretsEncryption=${arr(rec(i.encryptionConfig).resources).map(str).join(",")}`
    }
    case "aws:eks/nodeGroup:NodeGroup": {
      const c = rec(i.scalingConfig)
      return `types=${arr(i.instanceTypes).map(str).join(",")} scaling=${str(c.minSize)}..${str(c.maxSize)} ami=${str(i.amiType)}`
    }
    case "aws:rds/instance:Instance":
      return `${str(i.engine)} ${str(i.engineVersion)} class=${str(i.instanceClass)} disk=${str(i.allocatedStorage)}GiB ${str(i.storageType)} multiAz=${str(i.multiAz)} public=${str(i.publiclyAccessible)} encrypted=${str(i.storageEncrypted)} backups=${str(i.backupRetentionPeriod)}d deletionProtection=${str(i.deletionProtection)}`
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return `${str(i.engine)} ${str(i.engineVersion)} node=${str(i.nodeType)} nodes=${str(i.numCacheClusters)} failover=${str(i.automaticFailoverEnabled)} multiAz=${str(i.multiAzEnabled)} tls=${str(i.transitEncryptionMode)} atRest=${str(i.atRestEncryptionEnabled)} snapshots=${str(i.snapshotRetentionLimit)}d`
    case "aws:rds/parameterGroup:ParameterGroup":
    case "aws:elasticache/parameterGroup:ParameterGroup":
      return arr(i.parameters)
        .map((p) => `${str(rec(p).name)}=${str(rec(p).value)}`)
        .join(" ")
    case "aws:secretsmanager/secret:Secret":
      return `name=${str(i.name)}`
    case "kubernetes:helm.sh/v3:Release":
      return `chart=${str(i.chart)}@${str(i.version)} ns=${str(i.namespace)}`
    case "kubernetes:apps/v1:Deployment": {
      const c = rec(arr(rec(rec(spec.template).spec).containers)[0])
      const res = rec(c.resources)
      return `${ns}replicas=${str(spec.replicas)} image=${str(c.image)} requests=${str(rec(res.requests).cpu)}/${str(rec(res.requests).memory)} limits=${str(rec(res.limits).cpu)}/${str(rec(res.limits).memory)}`
    }
    case "kubernetes:autoscaling/v2:HorizontalPodAutoscaler":
      return `${ns}replicas=${str(spec.minReplicas)}..${str(spec.maxReplicas)}`
    case "kubernetes:batch/v1:Job":
      return `${ns}name=${str(meta.name)}`
    default:
      return meta.name === undefined ? "" : `${ns}name=${str(meta.name)}`
  }
}

const printTree = (resources: ReadonlyArray<RecordedResource>): void => {
  const children = new Map<string, Array<RecordedResource>>()
  for (const r of resources) {
    const list = children.get(r.parent) ?? []
    list.push(r)
    children.set(r.parent, list)
  }
  const print = (parent: string, depth: number): void => {
    for (const r of children.get(parent) ?? []) {
      console.log(`${"  ".repeat(depth)}${r.custom ? "-" : "+"} ${r.type} ${r.name}  ${settings(r)}`.trimEnd())
      print(resourceKey(r.type, r.name), depth + 1)
    }
  }
  print("", 0)
}

const writeManifests = (resources: ReadonlyArray<RecordedResource>, out: string): number => {
  const helmDir = path.join(out, "helm-releases")
  fs.mkdirSync(helmDir, { recursive: true })
  for (const dir of [out, helmDir])
    for (const f of fs.readdirSync(dir)) if (f.endsWith(".yaml")) fs.rmSync(path.join(dir, f))
  const written = new Set<string>()
  for (const { resource, object } of kubernetesObjects(resources)) {
    if (object === undefined) fail(`cannot render ${resource.type} ${resource.name}: no apiVersion/kind/metadata.name`)
    else {
      const file = manifestFileName(object)
      if (written.has(file)) fail(`two objects render to ${file}`)
      written.add(file)
      fs.writeFileSync(path.join(out, file), stringify(object, { lineWidth: 0 }))
    }
  }
  for (const r of resources.filter((x) => x.type === "kubernetes:helm.sh/v3:Release"))
    fs.writeFileSync(path.join(helmDir, `${r.name}.yaml`), stringify(plain(r.inputs), { lineWidth: 0 }))
  return written.size
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      out: { type: "string" },
      cloud: { type: "string" },
      config: { type: "string", multiple: true },
      help: { type: "boolean", default: false }
    },
    strict: true
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const stack =
    Stacks.find((s) => s === values.stack) ?? fail(`--stack must be one of ${Stacks.join(", ")}\n\n${usage}`)
  const overrides: Record<string, string> = {}
  if (values.cloud !== undefined) overrides["brandme:cloud"] = values.cloud
  for (const kv of values.config ?? []) {
    const at = kv.indexOf("=")
    if (at <= 0) fail(`--config expects key=value, got ${kv}`)
    const key = kv.slice(0, at)
    overrides[key.includes(":") ? key : `brandme:${key}`] = kv.slice(at + 1)
  }
  const run = await runStack(stack, { configOverrides: overrides }).catch((e: unknown) =>
    fail(`the program failed: ${e instanceof Error ? e.message : String(e)}`)
  )
  console.log(`# stack ${stack}: resource tree (+ component, - resource)`)
  printTree(run.resources)

  const count = (p: (r: RecordedResource) => boolean) => run.resources.filter(p).length
  const k8sObjects = kubernetesObjects(run.resources).length
  console.log(`\n# summary`)
  console.log(
    `resources: ${run.resources.length} (components ${count((r) => !r.custom)}, custom ${count((r) => r.custom)})`
  )
  console.log(`gcp resources: ${count((r) => r.type.startsWith("gcp:"))}`)
  console.log(`aws resources: ${count((r) => r.type.startsWith("aws:"))}`)
  console.log(`helm releases: ${count((r) => r.type === "kubernetes:helm.sh/v3:Release")}`)
  console.log(`kubernetes objects: ${k8sObjects}`)
  const kinds = new Map<string, number>()
  for (const { object } of kubernetesObjects(run.resources))
    if (object !== undefined) kinds.set(object.kind, (kinds.get(object.kind) ?? 0) + 1)
  console.log(`  by kind: ${[...kinds.entries()].map(([k, n]) => `${k}=${n}`).join(" ")}`)
  // every workload's env read with its own service's configuration, before anything is applied
  const workloads = renderedWorkloads(run.resources)
  const problems = checkWorkloads(stack, workloads)
  console.log(
    `workload env: ${workloads.length} workloads checked with their services' configuration, ${problems.length} problem(s)`
  )
  if (values.out !== undefined) {
    const out = path.resolve(values.out)
    fs.mkdirSync(out, { recursive: true })
    const written = writeManifests(run.resources, out)
    const files = fs.readdirSync(out).filter((f) => f.endsWith(".yaml")).length
    console.log(`manifests: ${written} objects written, ${files} YAML files in ${out} (+ helm-releases/)`)
  }
  if (problems.length > 0) fail(`\nthe plan would not run:\n${problems.map((p) => `  - ${p}`).join("\n")}`)
}

await main()
