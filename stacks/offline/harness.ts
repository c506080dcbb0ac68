import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import * as pulumi from "@pulumi/pulumi"
import { parse } from "yaml"
import { isRecord } from "../../shared/Guards.js"

/**
 * Runs the Pulumi program with no CLI and no cloud: `pulumi.runtime.setMocks` records every
 * resource registration, the mock returns the outputs the cloud would compute, and the config
 * is what the CLI would pass (Pulumi.yaml defaults, then Pulumi.<stack>.yaml, then secrets).
 * Runtime state is process-global: run one stack per process (one test file per stack).
 */

export const Project = "brandme"
export const RepoRoot = fileURLToPath(new URL("../../", import.meta.url))

export interface RecordedResource {
  readonly type: string
  readonly name: string
  readonly inputs: Record<string, unknown>
  readonly provider: string
  readonly custom: boolean
  /** `type::name` of each resource in its dependsOn (recorded through a transformation) */
  readonly dependsOn: ReadonlyArray<string>
  /** `type::name` of the parent component, "" at the top */
  readonly parent: string
}

export interface ProgramRun {
  readonly stack: string
  readonly resources: ReadonlyArray<RecordedResource>
  readonly outputs: Record<string, unknown>
  /** the secret values the run was given, to prove none leaks into plain text */
  readonly secretValues: ReadonlyArray<string>
}

export const MockAwsAccount = "123456789012"
/** Secrets Manager appends six random characters to a secret's ARN. */
export const mockSecretArn = (secretName: string): string =>
  `arn:aws:secretsmanager:eu-west-1:${MockAwsAccount}:secret:${secretName}-AbC123`
const isRecordOr = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})

/** Memorystore generates the AUTH string; the mock returns this one. */
export const MockRedisAuth = "mock-redis-auth-5b1e9c"

const readYaml = (file: string): Record<string, unknown> => {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"))
  return isRecord(doc) ? doc : {}
}

const asConfigString = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v))

export interface ProjectConfigKey {
  readonly key: string
  readonly type: string | undefined
  readonly description: string | undefined
  readonly default: unknown
  readonly secret: boolean
}

/** The `config:` block of Pulumi.yaml. */
export const projectConfigKeys = (root = RepoRoot): ReadonlyArray<ProjectConfigKey> => {
  const block = readYaml(`${root}/Pulumi.yaml`).config
  if (!isRecord(block)) return []
  return Object.entries(block).map(([key, spec]) => {
    const s = isRecord(spec) ? spec : {}
    return {
      key,
      type: typeof s.type === "string" ? s.type : undefined,
      description: typeof s.description === "string" ? s.description : undefined,
      default: s.default,
      // conditional secrets cannot be `secret: true` with a default (the CLI rejects that): their description says SECRET
      secret: s.secret === true || (typeof s.description === "string" && s.description.startsWith("SECRET"))
    }
  })
}

/** Stack config as `brandme:key` → string, the way the CLI hands it to the program. */
export const stackConfig = (stack: string, root = RepoRoot): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const k of projectConfigKeys(root)) {
    if (k.default !== undefined) out[`${Project}:${k.key}`] = asConfigString(k.default)
  }
  const values = readYaml(`${root}/Pulumi.${stack}.yaml`).config
  if (isRecord(values)) {
    for (const [key, value] of Object.entries(values)) {
      out[key.includes(":") ? key : `${Project}:${key}`] = asConfigString(value)
    }
  }
  return out
}

/** Distinct fake values for every secret key, so a leak is found by searching for them. */
export const fakeSecrets = (root = RepoRoot): Record<string, string> =>
  Object.fromEntries(
    projectConfigKeys(root)
      .filter((k) => k.secret)
      .map((k) => [k.key, k.key === "kubeconfig" ? "apiVersion: v1\nkind: Config\n" : `fake-${k.key}-7c41d2`])
  )

const computed = (type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> => {
  const cert = (what: string) => [{ cert: `-----BEGIN CERTIFICATE-----\nMOCK-${what}\n-----END CERTIFICATE-----` }]
  switch (type) {
    case "gcp:container/cluster:Cluster":
      return { name, endpoint: "203.0.113.10", masterAuth: { clusterCaCertificate: "TU9DSy1DQQ==" } }
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return {
        name,
        privateIpAddress: "10.100.0.3",
        connectionName: `mock-project:region:${name}`,
        serverCaCerts: cert("SQL")
      }
    case "gcp:redis/instance:Instance":
      return { name, host: "10.100.1.4", port: 6378, authString: MockRedisAuth, serverCaCerts: cert("REDIS") }
    case "gcp:serviceaccount/account:Account":
      return {
        name: `projects/mock-project/serviceAccounts/${String(inputs.accountId)}`,
        email: `${String(inputs.accountId)}@mock-project.iam.gserviceaccount.com`
      }
    case "gcp:compute/address:Address":
      return { name, address: "203.0.113.20" }
    case "gcp:compute/network:Network":
    case "gcp:compute/subnetwork:Subnetwork":
      return { name, selfLink: `https://www.googleapis.com/compute/v1/projects/mock-project/${name}` }
    // cloud aws: what AWS computes (ARNs, endpoints, the cluster's OIDC issuer)
    case "aws:eks/cluster:Cluster":
      return {
        name: inputs.name ?? name,
        arn: `arn:aws:eks:eu-west-1:${MockAwsAccount}:cluster/${String(inputs.name ?? name)}`,
        endpoint: "https://MOCK0123456789.gr7.eu-west-1.eks.amazonaws.com",
        certificateAuthority: { data: "TU9DSy1DQQ==" },
        identities: [{ oidcs: [{ issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/MOCK0123456789" }] }],
        vpcConfig: { ...isRecordOr(inputs.vpcConfig), clusterSecurityGroupId: "sg-mockcluster" }
      }
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return { arn: `arn:aws:iam::${MockAwsAccount}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/MOCK0123456789` }
    case "aws:iam/role:Role":
      return { name, arn: `arn:aws:iam::${MockAwsAccount}:role/${name}` }
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:eu-west-1:${MockAwsAccount}:key/mock-${name}` }
    case "aws:secretsmanager/secret:Secret":
      return { name: inputs.name, arn: mockSecretArn(String(inputs.name)) }
    case "aws:rds/instance:Instance":
      return {
        address: `${name}.mock.eu-west-1.rds.amazonaws.com`,
        endpoint: `${name}.mock.eu-west-1.rds.amazonaws.com:5432`
      }
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { primaryEndpointAddress: `master.${name}.mock.euw1.cache.amazonaws.com` }
    case "aws:ecr/repository:Repository":
      return { repositoryUrl: `${MockAwsAccount}.dkr.ecr.eu-west-1.amazonaws.com/${String(inputs.name)}` }
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { latestVersion: 1 }
    default:
      return { name: inputs.name ?? name }
  }
}

export interface RunOptions {
  readonly observabilityDir?: string
  readonly configOverrides?: Record<string, string>
}

export const resourceKey = (type: string, name: string): string => `${type}::${name}`

/** Records every resource's dependsOn as keys; mock inputs do not carry dependencies. */
const dependencyRecorder = () => {
  const keys = new WeakMap<pulumi.Resource, string>()
  const deps = new Map<string, ReadonlyArray<string>>()
  const parents = new Map<string, string>()
  const transformation: pulumi.ResourceTransformation = (args) => {
    const key = resourceKey(args.type, args.name)
    keys.set(args.resource, key)
    const parent = args.opts.parent === undefined ? undefined : keys.get(args.opts.parent)
    if (parent !== undefined) parents.set(key, parent)
    const d = args.opts.dependsOn
    const list: ReadonlyArray<unknown> = Array.isArray(d) ? d : d === undefined ? [] : [d]
    deps.set(
      key,
      list.flatMap((r) => {
        const k = pulumi.Resource.isInstance(r) ? keys.get(r) : undefined
        return k === undefined ? [] : [k]
      })
    )
    return undefined
  }
  return {
    transformation,
    dependsOn: (type: string, name: string) => deps.get(resourceKey(type, name)) ?? [],
    parent: (type: string, name: string) => parents.get(resourceKey(type, name)) ?? ""
  }
}

export const runStack = async (stack: string, options: RunOptions = {}): Promise<ProgramRun> => {
  const registered: Array<Omit<RecordedResource, "dependsOn" | "parent">> = []
  const recorder = dependencyRecorder()
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          provider: args.provider ?? "",
          custom: args.custom ?? true
        })
        return { id: `${args.name}-id`, state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) } }
      },
      call: (args) => args.inputs
    },
    Project,
    stack,
    false
  )
  const secrets = fakeSecrets()
  const config = { ...stackConfig(stack), ...options.configOverrides }
  for (const [k, v] of Object.entries(secrets)) config[`${Project}:${k}`] = v
  pulumi.runtime.setAllConfig(
    config,
    Object.keys(secrets).map((k) => `${Project}:${k}`)
  )
  // imported only now: the program must see the mocks and the config
  const { loadConfig } = await import("../config.js")
  const { brandme } = await import("../program.js")
  const program = brandme(loadConfig(), {
    transformations: [recorder.transformation],
    ...(options.observabilityDir === undefined ? {} : { observabilityDir: options.observabilityDir })
  })
  const outputs = await new Promise<Record<string, unknown>>((resolve) => {
    pulumi.output(program).apply((v) => {
      resolve(isRecord(v) ? v : {})
      return v
    })
  })
  await pulumi.runtime.disconnect()
  return {
    stack,
    resources: registered.map((r) => ({
      ...r,
      dependsOn: recorder.dependsOn(r.type, r.name),
      parent: recorder.parent(r.type, r.name)
    })),
    outputs,
    secretValues: [...Object.values(secrets).filter((s) => s.startsWith("fake-")), MockRedisAuth]
  }
}
