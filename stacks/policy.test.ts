import * as pulumi from "@pulumi/pulumi"
import { describe, expect, it } from "vitest"
import type { RecordedResource } from "./offline/harness.js"
import { networkPolicies, type Pod, reaches } from "./offline/networkPolicy.js"
import * as policy from "./offline/policy.js"
import { validateObject } from "./offline/schema.js"

// The policy checks on deliberately bad input: each must name the violation it exists for.

const res = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  provider = "urn:x::k8s::id"
): RecordedResource => ({
  type,
  name,
  inputs,
  provider,
  custom: true,
  dependsOn: [],
  parent: ""
})
const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value })

const deployment = (name: string, replicas: number, container: Record<string, unknown>) =>
  res("kubernetes:apps/v1:Deployment", name, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "brandme" },
    spec: {
      replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: { metadata: { labels: { "app.kubernetes.io/name": name } }, spec: { containers: [container] } }
    }
  })

describe("policy checks catch what they exist for", () => {
  it("a public control plane, public nodes and no release channel", () => {
    const bad = res("gcp:container/cluster:Cluster", "c", {
      privateClusterConfig: { enablePrivateNodes: false },
      masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "0.0.0.0/0" }] }
    })
    expect(policy.checkGkeCluster([bad])).toEqual([
      "c: nodes are not private",
      "c: no workload identity",
      "c: no release channel",
      "c: master authorized network 0.0.0.0/0"
    ])
  })

  it("a Cloud SQL instance with a public IP and no HA in prod", () => {
    const bad = res("gcp:sql/databaseInstance:DatabaseInstance", "db", {
      databaseVersion: "POSTGRES_15",
      settings: {
        diskType: "PD_SSD",
        diskSize: 100,
        ipConfiguration: { ipv4Enabled: true, privateNetwork: "vpc" },
        backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
        availabilityType: "ZONAL"
      }
    })
    expect(policy.checkCloudSql([bad], { highAvailability: true, deletionProtection: true })).toEqual([
      "db: public IPv4 enabled",
      "db: not REGIONAL",
      "db: no deletion protection"
    ])
  })

  it("a queue Redis (noeviction) without failover or persistence, in any stack", () => {
    const bad = res("gcp:redis/instance:Instance", "q", {
      redisConfigs: { "maxmemory-policy": "noeviction" },
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      tier: "BASIC"
    })
    const cache = res("gcp:redis/instance:Instance", "c", {
      redisConfigs: { "maxmemory-policy": "allkeys-lru" },
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      tier: "BASIC"
    })
    expect(policy.checkMemorystore([bad, cache], false)).toEqual([
      "q: queue Redis not STANDARD_HA",
      "q: queue Redis without persistence"
    ])
  })

  it("a queue Redis that evicts, without AUTH or TLS", () => {
    const bad = res("gcp:redis/instance:Instance", "q", {
      redisConfigs: { "maxmemory-policy": "allkeys-lru" },
      tier: "BASIC"
    })
    expect(policy.checkMemorystore([bad], true)).toEqual([
      "no Redis instance with maxmemory-policy noeviction (queues)",
      "q: AUTH disabled",
      "q: no in-transit TLS",
      "q: not STANDARD_HA"
    ])
  })

  it("a root container without limits, probing the wrong path and port", () => {
    const bad = deployment("gateway", 1, {
      name: "gateway",
      env: [{ name: "SERVICE", value: "gateway" }],
      ports: [{ name: "http", containerPort: 3000 }],
      resources: { requests: { cpu: "1", memory: "1Gi" } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] }
      },
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      startupProbe: { httpGet: { path: "/health/startup", port: "http" } },
      livenessProbe: { httpGet: { path: "/healthz", port: "http" } },
      readinessProbe: { httpGet: { path: "/health/ready", port: 8000 } }
    })
    expect(policy.checkContainers([bad])).toEqual([
      "Deployment gateway/gateway: no limits.cpu",
      "Deployment gateway/gateway: no limits.memory",
      "Deployment gateway/gateway: livenessProbe is not GET /health/live on 3000 (got /healthz on 3000)",
      "Deployment gateway/gateway: readinessProbe is not GET /health/ready on 3000 (got /health/ready on 8000)"
    ])
    const root = deployment("brain", 1, { name: "brain", env: [{ name: "SERVICE", value: "brain" }] })
    expect(policy.checkContainers([root]).slice(0, 2)).toEqual([
      "Deployment brain/brain: runAsNonRoot not set",
      "Deployment brain/brain: not uid 1000"
    ])
  })

  it("a replicated Deployment without a PodDisruptionBudget", () => {
    expect(policy.checkPdbs([deployment("policy", 2, {})])).toEqual([
      "Deployment policy has 2 replicas and no PodDisruptionBudget"
    ])
    expect(policy.checkPdbs([deployment("agentic", 1, {})])).toEqual([])
  })

  it("a namespace whose only policy allows something", () => {
    const ns = res("kubernetes:core/v1:Namespace", "brandme", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "brandme" }
    })
    const allow = res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "p", {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "brandme" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], egress: [{}] }
    })
    expect(policy.checkDefaultDeny([ns, allow])).toEqual(["namespace brandme has no default deny-all NetworkPolicy"])
  })

  it("a secret value or a secret-named literal outside a Pulumi secret", () => {
    const leak = res("kubernetes:core/v1:ConfigMap", "cm", { data: { url: "postgres://u:hunter2@db/x" } })
    const literal = res("gcp:sql/user:User", "u", { password: "changeme" })
    const wrapped = res("gcp:secretmanager/secretVersion:SecretVersion", "v", { secretData: secret("hunter2") })
    const stringData = res("kubernetes:core/v1:Secret", "s", { stringData: { value: "plain" } })
    expect(policy.checkNoPlaintextSecrets([leak, literal, wrapped, stringData], ["hunter2"])).toEqual([
      "kubernetes:core/v1:ConfigMap cm: secret value in plain text at url",
      "gcp:sql/user:User u: literal value for secret-named key password",
      "kubernetes:core/v1:Secret s: literal value at stringData.value"
    ])
  })

  it("a resource on the default provider", () => {
    const r = res(
      "gcp:compute/network:Network",
      "n",
      {},
      "urn:pulumi:dev::brandme::pulumi:providers:gcp::default_9_37_0::id"
    )
    expect(policy.checkExplicitProviders([r])).toEqual(["gcp:compute/network:Network n uses a default provider"])
  })

  it("schema: a wrong type in a built-in kind, a malformed custom resource", () => {
    expect(
      validateObject({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "x" },
        spec: { maxUnavailable: [1] }
      })
    ).toHaveLength(1)
    expect(
      validateObject({ apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "Bad_Name" } })
    ).toEqual(["ServiceMonitor -/Bad_Name: name is not DNS-1123", "ServiceMonitor -/Bad_Name: no spec"])
  })

  it("network reachability: the deny-all, a callers-only rule, and the broad rule it replaced", () => {
    const np = (name: string, spec: Record<string, unknown>) =>
      res("kubernetes:networking.k8s.io/v1:NetworkPolicy", name, {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name, namespace: "brandme" },
        spec
      })
    const pod = (service: string): Pod => ({
      namespace: "brandme",
      labels: { "app.kubernetes.io/part-of": "brandme", "app.kubernetes.io/component": service }
    })
    const denyAll = np("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })
    const callersOnly = np("callers", {
      podSelector: { matchLabels: { "app.kubernetes.io/component": "knowledge" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["gateway"] }]
              }
            }
          ],
          ports: [{ protocol: "TCP", port: 8101 }]
        }
      ]
    })
    const anyEgress = np("egress", { podSelector: {}, policyTypes: ["Egress"], egress: [{}] })
    const broad = np("broad", {
      podSelector: { matchLabels: { "app.kubernetes.io/part-of": "brandme" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "brandme" } } }] }]
    })
    const tight = networkPolicies([denyAll, callersOnly, anyEgress])
    expect(reaches(networkPolicies([denyAll]), pod("gateway"), pod("knowledge"), 8101)).toBe(false)
    expect(reaches(tight, pod("gateway"), pod("knowledge"), 8101)).toBe(true)
    expect(reaches(tight, pod("gateway"), pod("knowledge"), 9999)).toBe(false)
    expect(reaches(tight, pod("brain"), pod("knowledge"), 8101)).toBe(false)
    expect(reaches(tight, { ...pod("gateway"), namespace: "other" }, pod("knowledge"), 8101)).toBe(false)
    expect(
      reaches(networkPolicies([denyAll, callersOnly, anyEgress, broad]), pod("brain"), pod("knowledge"), 8101)
    ).toBe(true)
  })
})
