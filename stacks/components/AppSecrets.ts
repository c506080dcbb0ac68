import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Charts } from "../charts.js"
import { type SecretDef, type SecretName, SecretDefs } from "../secrets.js"
import { release } from "./helm.js"

export const SecretValueKey = "value"
export const SecretStoreName = "gcp-secret-manager"

/** Grafana's chart reads the admin user and password from two keys of one Secret. */
export const GrafanaAdminKeys = { user: "admin-user", password: "admin-password" } as const

interface Common {
  readonly provider: k8s.Provider
  readonly namespaceFor: (def: SecretDef) => pulumi.Input<string>
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

const mirrored = SecretDefs.filter((d) => d.mirrored)

/**
 * External Secrets Operator, a ClusterSecretStore on GCP Secret Manager (workload identity
 * through the workloads' KSA) and one ExternalSecret per mirrored secret.
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
    this.ready = mirrored.map(
      (def) =>
        new k8s.apiextensions.CustomResource(
          `external-${def.id}`,
          {
            apiVersion: "external-secrets.io/v1beta1",
            kind: "ExternalSecret",
            metadata: {
              name: def.id,
              namespace: args.namespaceFor(def),
              // Pulumi waits until the Secret is synced, so the migration Job never starts without it
              annotations: { "pulumi.com/waitFor": "condition=Ready" }
            },
            spec: {
              refreshInterval: "1h",
              secretStoreRef: { kind: "ClusterSecretStore", name: SecretStoreName },
              target: {
                name: def.id,
                creationPolicy: "Owner",
                ...(def.name === "grafanaAdminPassword"
                  ? {
                      template: {
                        engineVersion: "v2",
                        data: { [GrafanaAdminKeys.user]: "admin", [GrafanaAdminKeys.password]: "{{ .value }}" }
                      }
                    }
                  : {})
              },
              data: [{ secretKey: SecretValueKey, remoteRef: { key: def.id, version: "latest" } }]
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
 * from the encrypted stack config (stored encrypted in Pulumi state too).
 */
export class StaticSecrets extends pulumi.ComponentResource {
  readonly ready: ReadonlyArray<pulumi.Resource>

  constructor(name: string, args: StaticSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:StaticSecrets", name, {}, opts)
    this.ready = mirrored.flatMap((def) => {
      const value = args.values[def.name]
      if (value === undefined) return []
      const stringData =
        def.name === "grafanaAdminPassword"
          ? { [GrafanaAdminKeys.user]: pulumi.secret("admin"), [GrafanaAdminKeys.password]: pulumi.secret(value) }
          : { [SecretValueKey]: pulumi.secret(value) }
      return [
        new k8s.core.v1.Secret(
          def.id,
          { metadata: { name: def.id, namespace: args.namespaceFor(def) }, type: "Opaque", stringData },
          { parent: this, provider: args.provider, dependsOn: [...args.after] }
        )
      ]
    })
    this.registerOutputs({})
  }
}
