import { isRecord } from "../../shared/Guards.js"
import type { RecordedResource } from "./harness.js"
import type { Violations } from "./policy.js"
import { isSecretWrapper, plain } from "./render.js"

/**
 * Policy checks for the AWS cloud layer, over the resources a program run registered (each returns
 * its violations; empty = compliant). Resources refer to each other by the mock's computed values:
 * a resource's id is `<logical name>-id`, a name/ARN output is derived from the logical name.
 */

const ofType = (rs: ReadonlyArray<RecordedResource>, type: string) => rs.filter((r) => r.type === type)
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])
const reveal = (r: RecordedResource): Record<string, unknown> => rec(plain(r.inputs, true))
const idOf = (r: RecordedResource): string => `${r.name}-id`
const json = (v: unknown): Record<string, unknown> => {
  try {
    return rec(typeof v === "string" ? JSON.parse(v) : v)
  } catch {
    return {}
  }
}

export const T = {
  subnet: "aws:ec2/subnet:Subnet",
  routeTable: "aws:ec2/routeTable:RouteTable",
  route: "aws:ec2/route:Route",
  association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  rds: "aws:rds/instance:Instance",
  rdsSubnets: "aws:rds/subnetGroup:SubnetGroup",
  rdsParams: "aws:rds/parameterGroup:ParameterGroup",
  redis: "aws:elasticache/replicationGroup:ReplicationGroup",
  redisSubnets: "aws:elasticache/subnetGroup:SubnetGroup",
  redisParams: "aws:elasticache/parameterGroup:ParameterGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  eks: "aws:eks/cluster:Cluster",
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  addon: "aws:eks/addon:Addon",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  oidc: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  secret: "aws:secretsmanager/secret:Secret",
  ecr: "aws:ecr/repository:Repository"
} as const

/** Subnet id → is it private: no public IPs on launch, and its route table has no route to an internet gateway. */
export const privateSubnetIds = (rs: ReadonlyArray<RecordedResource>): ReadonlySet<string> => {
  const internetTables = new Set(
    ofType(rs, T.route).flatMap((r) => {
      const i = reveal(r)
      return typeof i.gatewayId === "string" && i.gatewayId.length > 0 ? [String(i.routeTableId)] : []
    })
  )
  const tableOf = new Map(
    ofType(rs, T.association).map((a) => [String(reveal(a).subnetId), String(reveal(a).routeTableId)] as const)
  )
  return new Set(
    ofType(rs, T.subnet)
      .filter((s) => {
        const table = tableOf.get(idOf(s))
        return reveal(s).mapPublicIpOnLaunch !== true && table !== undefined && !internetTables.has(table)
      })
      .map(idOf)
  )
}

/** Data stores (RDS, ElastiCache) only in private subnets, in three zones, behind a security group admitting one source. */
export const checkDataStorePlacement = (rs: ReadonlyArray<RecordedResource>): Violations => {
  const privates = privateSubnetIds(rs)
  const zoneOf = new Map(ofType(rs, T.subnet).map((s) => [idOf(s), String(reveal(s).availabilityZone)] as const))
  const groups = [...ofType(rs, T.rdsSubnets), ...ofType(rs, T.redisSubnets)]
  const v: Array<string> = []
  if (ofType(rs, T.rdsSubnets).length === 0) v.push("no RDS subnet group")
  if (ofType(rs, T.redisSubnets).length === 0) v.push("no ElastiCache subnet group")
  for (const g of groups) {
    const ids = arr(reveal(g).subnetIds).map(String)
    for (const id of ids) if (!privates.has(id)) v.push(`${g.type} ${g.name}: subnet ${id} is not private`)
    if (new Set(ids.map((id) => zoneOf.get(id))).size < 3) v.push(`${g.type} ${g.name}: not spread over three zones`)
  }
  for (const sg of ofType(rs, T.securityGroup)) {
    for (const rule of arr(reveal(sg).ingress).map(rec)) {
      if (arr(rule.cidrBlocks).length > 0 || arr(rule.ipv6CidrBlocks).length > 0)
        v.push(`${sg.name}: ingress from CIDR blocks (only the cluster security group may connect)`)
      if (arr(rule.securityGroups).length === 0) v.push(`${sg.name}: ingress rule without a source security group`)
    }
  }
  return v
}

export interface RdsExpectations {
  readonly highAvailability: boolean
  readonly deletionProtection: boolean
}

/** RDS: Postgres 15, not public, encrypted, backups (PITR), TLS forced, the guide's 100 GiB SSD; Multi-AZ and deletion protection in prod. */
export const checkRds = (rs: ReadonlyArray<RecordedResource>, want: RdsExpectations): Violations => {
  const instances = ofType(rs, T.rds)
  if (instances.length === 0) return ["no RDS instance"]
  const params = new Map(ofType(rs, T.rdsParams).map((p) => [p.name, reveal(p)] as const))
  return instances.flatMap((r) => {
    const i = reveal(r)
    const v: Array<string> = []
    if (i.engine !== "postgres" || !String(i.engineVersion).startsWith("15")) v.push(`${r.name}: not PostgreSQL 15`)
    if (i.publiclyAccessible !== false) v.push(`${r.name}: publicly accessible`)
    if (i.storageEncrypted !== true || typeof i.kmsKeyId !== "string")
      v.push(`${r.name}: storage not encrypted with the stack's key`)
    if (typeof i.backupRetentionPeriod !== "number" || i.backupRetentionPeriod < 1)
      v.push(`${r.name}: no automated backups (no point-in-time recovery)`)
    if (i.storageType !== "gp3" || i.allocatedStorage !== 100) v.push(`${r.name}: not 100 GiB gp3`)
    const pg = params.get(String(i.parameterGroupName))
    const forceSsl = arr(pg?.parameters)
      .map(rec)
      .find((p) => p.name === "rds.force_ssl")
    if (forceSsl?.value !== "1") v.push(`${r.name}: TLS not enforced (rds.force_ssl)`)
    if (want.highAvailability && i.multiAz !== true) v.push(`${r.name}: not Multi-AZ`)
    if (want.deletionProtection && i.deletionProtection !== true) v.push(`${r.name}: no deletion protection`)
    return v
  })
}

/** ElastiCache: a cache (allkeys-lru) and a queue (noeviction, replicated with failover, snapshots); AUTH, TLS, at-rest encryption on both. */
export const checkElastiCache = (rs: ReadonlyArray<RecordedResource>, wantHa: boolean): Violations => {
  const groups = ofType(rs, T.redis)
  const params = new Map(ofType(rs, T.redisParams).map((p) => [p.name, reveal(p)] as const))
  const policyOf = (r: RecordedResource) =>
    arr(params.get(String(reveal(r).parameterGroupName))?.parameters)
      .map(rec)
      .find((p) => p.name === "maxmemory-policy")?.value
  const policies = groups.map(policyOf)
  const v: Array<string> = []
  if (!policies.includes("noeviction")) v.push("no Redis group with maxmemory-policy noeviction (queues)")
  if (!policies.includes("allkeys-lru")) v.push("no Redis cache group with allkeys-lru")
  for (const r of groups) {
    const i = reveal(r)
    const replicated =
      typeof i.numCacheClusters === "number" &&
      i.numCacheClusters >= 2 &&
      i.automaticFailoverEnabled === true &&
      i.multiAzEnabled === true
    if (!isSecretWrapper(r.inputs.authToken) || String(i.authToken ?? "").length < 16)
      v.push(`${r.name}: no AUTH token`)
    if (i.transitEncryptionEnabled !== true || i.transitEncryptionMode !== "required")
      v.push(`${r.name}: no in-transit TLS`)
    if (i.atRestEncryptionEnabled !== true) v.push(`${r.name}: not encrypted at rest`)
    if (wantHa && !replicated) v.push(`${r.name}: not Multi-AZ with automatic failover`)
    if (policyOf(r) === "noeviction") {
      if (!wantHa && !replicated) v.push(`${r.name}: queue Redis not Multi-AZ with automatic failover`)
      if (typeof i.snapshotRetentionLimit !== "number" || i.snapshotRetentionLimit < 1)
        v.push(`${r.name}: queue Redis without persistence (snapshots)`)
    }
  }
  return v
}

/** EKS: nodes on private subnets, secrets encrypted, a private endpoint, IRSA, NetworkPolicy enforcement, IMDSv2 with hop limit 1. */
export const checkEks = (rs: ReadonlyArray<RecordedResource>): Violations => {
  const privates = privateSubnetIds(rs)
  const v: Array<string> = []
  const clusters = ofType(rs, T.eks)
  if (clusters.length !== 1) v.push(`${clusters.length} EKS clusters`)
  for (const c of clusters) {
    const i = reveal(c)
    const vpc = rec(i.vpcConfig)
    if (vpc.endpointPrivateAccess !== true) v.push(`${c.name}: no private API endpoint`)
    if (vpc.endpointPublicAccess !== false) {
      const cidrs = arr(vpc.publicAccessCidrs)
      if (cidrs.length === 0 || cidrs.includes("0.0.0.0/0")) v.push(`${c.name}: public API endpoint open to 0.0.0.0/0`)
    }
    for (const id of arr(vpc.subnetIds).map(String))
      if (!privates.has(id)) v.push(`${c.name}: subnet ${id} is not private`)
    const enc = arr(i.encryptionConfig === undefined ? [] : [i.encryptionConfig]).map(rec)
    if (!enc.some((e) => arr(e.resources).includes("secrets")))
      v.push(`${c.name}: Kubernetes Secrets not encrypted with KMS`)
  }
  if (ofType(rs, T.oidc).length !== 1) v.push("no OIDC provider (IRSA)")
  for (const n of ofType(rs, T.nodeGroup))
    for (const id of arr(reveal(n).subnetIds).map(String))
      if (!privates.has(id)) v.push(`${n.name}: subnet ${id} is not private`)
  const cni = ofType(rs, T.addon).find((a) => reveal(a).addonName === "vpc-cni")
  if (json(reveal(cni ?? ({ inputs: {} } as RecordedResource)).configurationValues).enableNetworkPolicy !== "true")
    v.push("vpc-cni: NetworkPolicy enforcement off (default deny would not hold)")
  for (const t of ofType(rs, T.launchTemplate)) {
    const m = rec(reveal(t).metadataOptions)
    if (m.httpTokens !== "required" || m.httpPutResponseHopLimit !== 1)
      v.push(`${t.name}: instance metadata reachable from pods (need IMDSv2, hop limit 1)`)
    for (const b of arr(reveal(t).blockDeviceMappings).map(rec))
      if (rec(b.ebs).encrypted !== "true") v.push(`${t.name}: node volume not encrypted`)
  }
  return v
}

export interface ReaderExpectation {
  readonly namespace: string
  readonly serviceAccount: string
  /** the secrets' ARNs the reader must be able to read, and nothing else */
  readonly arns: ReadonlyArray<string>
}

/**
 * Least privilege per reader: each reader's role trusts exactly its Kubernetes service account and may
 * read exactly its own secrets' ARNs; no role reads a secret with a wildcard; every secret is encrypted
 * with the stack's key.
 */
export const checkSecretReaders = (
  rs: ReadonlyArray<RecordedResource>,
  want: Readonly<Record<string, ReaderExpectation>>,
  rolePrefix: string
): Violations => {
  const v: Array<string> = []
  const roles = new Map(ofType(rs, T.role).map((r) => [r.name, reveal(r)] as const))
  const policies = ofType(rs, T.rolePolicy).filter((p) => String(reveal(p).role).startsWith(rolePrefix))
  const seen = new Set<string>()
  for (const p of policies) {
    const roleName = String(reveal(p).role)
    const reader = roleName.slice(rolePrefix.length)
    seen.add(reader)
    const w = want[reader]
    if (w === undefined) {
      v.push(`role ${roleName}: no reader ${reader} is expected`)
      continue
    }
    const statements = arr(json(reveal(p).policy).Statement).map(rec)
    const reads = statements.filter((s) => JSON.stringify(s.Action).includes("secretsmanager:"))
    const resources = reads.flatMap((s) => arr(s.Resource).concat(typeof s.Resource === "string" ? [s.Resource] : []))
    const got = [...new Set(resources.map(String))].sort()
    if (JSON.stringify(got) !== JSON.stringify([...w.arns].sort()))
      v.push(
        `role ${roleName}: reads ${got.join(", ") || "nothing"}; its own secrets are ${w.arns.join(", ") || "none"}`
      )
    for (const s of statements) {
      const res = arr(s.Resource).concat(typeof s.Resource === "string" ? [s.Resource] : [])
      if (res.some((x) => String(x).includes("*"))) v.push(`role ${roleName}: wildcard resource`)
      if (JSON.stringify(s.Action).includes("*")) v.push(`role ${roleName}: wildcard action`)
    }
    const trust = arr(json(roles.get(roleName)?.assumeRolePolicy).Statement).map(rec)
    const subs = trust.flatMap((s) =>
      Object.entries(rec(rec(s.Condition).StringEquals)).flatMap(([k, x]) => (k.endsWith(":sub") ? [String(x)] : []))
    )
    const sub = `system:serviceaccount:${w.namespace}:${w.serviceAccount}`
    if (subs.length !== 1 || subs[0] !== sub)
      v.push(`role ${roleName}: trusts ${subs.join(", ") || "no one"}, not ${sub}`)
  }
  for (const reader of Object.keys(want)) if (!seen.has(reader)) v.push(`reader ${reader}: no role`)
  for (const s of ofType(rs, T.secret))
    if (typeof reveal(s).kmsKeyId !== "string")
      v.push(`secret ${String(reveal(s).name)}: not encrypted with the stack's key`)
  return v
}
