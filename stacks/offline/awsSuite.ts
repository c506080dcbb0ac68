import { expect, it } from "vitest"
import { type ProcessName, ServiceNames, secretsOf } from "../../shared/ServiceCatalog.js"
import { SecretDefs } from "../secrets.js"
import * as aws from "./awsPolicy.js"
import { mockSecretArn, type ProgramRun } from "./harness.js"
import { kubernetesObjects } from "./render.js"

export interface AwsExpectations {
  readonly appNamespace: string
  readonly highAvailability: boolean
  readonly deletionProtection: boolean
  /** NAT gateways: one per zone in prod, one in dev */
  readonly natGateways: number
}

const rec = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? { ...v } : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])

/**
 * Who may read which secret, straight from the catalog (shared/ServiceCatalog.ts `secretsOf`) and
 * secrets.ts, independent of how stacks/aws builds the roles: a process reads the secrets it gets as
 * env; the observability charts read the secrets mirrored into their namespace.
 */
export const expectedReaders = (appNamespace: string): Record<string, aws.ReaderExpectation> => {
  const processes: ReadonlyArray<ProcessName> = [...ServiceNames, "migrate"]
  const out: Record<string, aws.ReaderExpectation> = {}
  for (const p of processes) {
    const envs = secretsOf(p)
    const arns = SecretDefs.filter(
      (d) => d.target?.namespace === "app" && d.env !== undefined && envs.includes(d.env)
    ).map((d) => mockSecretArn(d.id))
    if (arns.length > 0) out[p] = { namespace: appNamespace, serviceAccount: `brandme-secrets-${p}`, arns }
  }
  out.observability = {
    namespace: "observability",
    serviceAccount: "brandme-secrets-observability",
    arns: SecretDefs.filter((d) => d.target?.namespace === "observability").map((d) => mockSecretArn(d.id))
  }
  return out
}

/** The AWS cloud layer's policy tests (called inside stackPolicySuite's describe for cloud aws). */
export const awsStackChecks = (run: () => ProgramRun, want: AwsExpectations): void => {
  const of = (type: string) => run().resources.filter((r) => r.type === type)

  it("VPC: three zones, data stores only in private subnets (no internet route), reachable from the cluster only", () => {
    expect(of(aws.T.subnet)).toHaveLength(9)
    expect(aws.privateSubnetIds(run().resources).size).toBe(6)
    expect(of("aws:ec2/natGateway:NatGateway")).toHaveLength(want.natGateways)
    expect(aws.checkDataStorePlacement(run().resources)).toEqual([])
  })

  it("EKS: private subnets, KMS-encrypted Secrets, private endpoint, IRSA, NetworkPolicy enforcement, IMDSv2", () => {
    expect(aws.checkEks(run().resources)).toEqual([])
    expect(of(aws.T.nodeGroup)).toHaveLength(3)
  })

  it(`RDS: PostgreSQL 15, not public, encrypted, backups + PITR, TLS forced${want.highAvailability ? ", Multi-AZ, deletion protection" : ""}`, () => {
    expect(of(aws.T.rds)).toHaveLength(1)
    expect(aws.checkRds(run().resources, want)).toEqual([])
  })

  it("ElastiCache: AUTH + TLS + at-rest encryption on both; the queue group never evicts, fails over and snapshots", () => {
    expect(of(aws.T.redis)).toHaveLength(2)
    expect(aws.checkElastiCache(run().resources, want.highAvailability)).toEqual([])
  })

  it("Secrets Manager: each reader's IAM role reads exactly its own secrets' ARNs, trusted by its service account alone", () => {
    const readers = expectedReaders(want.appNamespace)
    // the check sees what it checks: gateway reads the database URL, chain alone the chain signing key
    expect(readers.gateway?.arns).toContain(mockSecretArn("brandme-database-url"))
    expect(readers.gateway?.arns).not.toContain(mockSecretArn("brandme-chain-signing-key"))
    expect(readers.chain?.arns).toContain(mockSecretArn("brandme-chain-signing-key"))
    expect(aws.checkSecretReaders(run().resources, readers, "brandme-secrets-reader-")).toEqual([])
  })

  it("External Secrets: every ExternalSecret is synced through a store whose reader may read it; pods hold no AWS role", () => {
    const objects = kubernetesObjects(run().resources, true).flatMap(({ object }) =>
      object === undefined ? [] : [object]
    )
    const readers = expectedReaders(want.appNamespace)
    const externals = objects.filter((o) => o.kind === "ExternalSecret")
    expect(externals.length).toBeGreaterThan(5)
    for (const e of externals) {
      const store = String(rec(rec(e.spec).secretStoreRef).name)
      const reader = readers[store.replace(/^aws-secrets-/, "")]
      expect(reader, `${e.metadata.name} via ${store}`).toBeDefined()
      for (const d of arr(rec(e.spec).data).map(rec))
        expect(reader?.arns, e.metadata.name).toContain(mockSecretArn(String(rec(d.remoteRef).key)))
    }
    const workloads = objects.find((o) => o.kind === "ServiceAccount" && o.metadata.name === "brandme-workloads")
    expect(JSON.stringify(workloads)).not.toContain("eks.amazonaws.com/role-arn")
    const stores = objects.filter((o) => o.kind === "SecretStore")
    expect(stores.map((s) => s.metadata.name).sort()).toEqual(
      Object.keys(readers)
        .map((r) => `aws-secrets-${r}`)
        .sort()
    )
    expect(objects.filter((o) => o.kind === "ClusterSecretStore")).toEqual([])
  })

  it("ingress-nginx behind an NLB; the default storage class is encrypted gp3; images in an immutable, scanned ECR", () => {
    const nginx = run().resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "ingress-nginx")
    const service = rec(rec(rec(rec(nginx?.inputs).values).controller).service)
    expect(rec(service.annotations)["service.beta.kubernetes.io/aws-load-balancer-type"]).toBe("nlb")
    expect(service.externalTrafficPolicy).toBe("Local")
    const classes = kubernetesObjects(run().resources, true).flatMap(({ object }) =>
      object?.kind === "StorageClass" ? [object] : []
    )
    expect(classes).toHaveLength(1)
    const gp3 = rec(classes[0])
    expect(rec(rec(gp3.metadata).annotations)["storageclass.kubernetes.io/is-default-class"]).toBe("true")
    expect(rec(gp3.parameters)).toMatchObject({ type: "gp3", encrypted: "true" })
    const ecr = rec(of(aws.T.ecr)[0]?.inputs)
    expect(ecr.imageTagMutability).toBe("IMMUTABLE")
    expect(rec(ecr.imageScanningConfiguration).scanOnPush).toBe(true)
  })
}
