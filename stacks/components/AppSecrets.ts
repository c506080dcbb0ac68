import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Charts } from "../charts.js"
import { type MirroredSecret, mirroredSecrets, type SecretName, type SecretNamespace } from "../secrets.js"
import { release } from "./helm.js"

export const SecretStoreName = "gcp-secret-manager"

interface Common {
  readonly provider: k8s.Provider
  readonly namespaceFor: (ns: SecretNamespace) => pulumi.Input<string>
  readonly after: ReadonlyArray<pulumi.Resource>
}

export interface ExternalSecretsArgs extends Common {
  readonly project: string
  readonly clusterName: pulumi.Input<string>
  readonly clusterLocation: string
  /** the KSA bound to the workloads' GSA, which alone may read the secrets */
  readonly serviceAccount: { readonly namespace: string; readonly name: string }
  readonly monitoring: pulumi.Resource
}

/** Keys that are not secrets are rendered by the ExternalSecret template next to the synced ones (every cloud). */
export const template = (m: MirroredSecret) =>
  Object.keys(m.literals).length === 0
    ? {}
    : {
        template: {
          engineVersion: "v2",
          data: {
            ...m.literals,
            ...Object.fromEntries(m.entries.map((e) => [e.key, `{{ index . "${e.key}" }}`]))
          }
        }
      }

/**
 * External Secrets Operator, a ClusterSecretStore on GCP Secret Manager (workload identity
 * through the workloads' KSA) and one ExternalSecret per Kubernetes Secret.
 */
export class ExternalSecrets extends pulumi.ComponentResource {
  /** what pods must wait for: the Kubernetes Secrets exist once these are ready */
  readonly ready: ReadonlyArray<pulumi.Resource>

  constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:ExternalSecrets", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const operator = release(
      "external-secrets",
      {
        chart: Charts.externalSecrets,
        namespace: "external-secrets",
        createNamespace: true,
        values: { installCRDs: true, serviceMonitor: { enabled: true } }
      },
      { ...o, dependsOn: [args.monitoring] }
    )
    const store = new k8s.apiextensions.CustomResource(
      SecretStoreName,
      {
        apiVersion: "external-secrets.io/v1beta1",
        kind: "ClusterSecretStore",
        metadata: { name: SecretStoreName },
        spec: {
          provider: {
            gcpsm: {
              projectID: args.project,
              auth: {
                workloadIdentity: {
                  clusterLocation: args.clusterLocation,
                  clusterName: args.clusterName,
                  clusterProjectID: args.project,
                  serviceAccountRef: { name: args.serviceAccount.name, namespace: args.serviceAccount.namespace }
                }
              }
            }
          }
        }
      },
      { ...o, dependsOn: [operator, ...args.after] }
    )
    this.ready = mirroredSecrets().map(
      (m) =>
        new k8s.apiextensions.CustomResource(
          `external-${m.secret}`,
          {
            apiVersion: "external-secrets.io/v1beta1",
            kind: "ExternalSecret",
            metadata: {
              name: m.secret,
              namespace: args.namespaceFor(m.namespace),
              // Pulumi waits until the Secret is synced, so the migration Job never starts without it
              annotations: { "pulumi.com/waitFor": "condition=Ready" }
            },
            spec: {
              refreshInterval: "1h",
              secretStoreRef: { kind: "ClusterSecretStore", name: SecretStoreName },
              target: { name: m.secret, creationPolicy: "Owner", ...template(m) },
              data: m.entries.map((e) => ({ secretKey: e.key, remoteRef: { key: e.def.id, version: "latest" } }))
            }
          },
          { ...o, dependsOn: [store] }
        )
    )
    this.registerOutputs({})
  }
}

export interface StaticSecretsArgs extends Common {
  readonly values: Readonly<Partial<Record<SecretName, pulumi.Output<string>>>>
}

/**
 * `cloud: existing`: no Secret Manager to sync from, so the same Kubernetes Secrets are created
 * from the encrypted stack config (kept encrypted in Pulumi state too).
 */
export class StaticSecrets extends pulumi.ComponentResource {
  readonly ready: ReadonlyArray<pulumi.Resource>

  constructor(name: string, args: StaticSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:StaticSecrets", name, {}, opts)
    this.ready = mirroredSecrets().flatMap((m) => {
      const entries = m.entries.flatMap((e) => {
        const value = args.values[e.def.name]
        return value === undefined ? [] : [[e.key, pulumi.secret(value)] as const]
      })
      if (entries.length === 0) return []
      const literals = Object.entries(m.literals).map(([k, v]) => [k, pulumi.secret(v)] as const)
      return [
        new k8s.core.v1.Secret(
          m.secret,
          {
            metadata: { name: m.secret, namespace: args.namespaceFor(m.namespace) },
            type: "Opaque",
            stringData: Object.fromEntries([...literals, ...entries])
          },
          { parent: this, provider: args.provider, dependsOn: [...args.after] }
        )
      ]
    })
    this.registerOutputs({})
  }
}
