import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Charts } from "../charts.js"
import { template } from "../components/AppSecrets.js"
import { release } from "../components/helm.js"
import type { SecretDelivery, SecretDeliveryArgs } from "../foundation.js"
import { mirroredSecrets } from "../secrets.js"
import type { SecretReaderRole } from "./SecretsManager.js"

export interface AwsExternalSecretsArgs extends SecretDeliveryArgs {
  readonly region: string
  readonly readers: ReadonlyArray<SecretReaderRole>
}

export const IrsaRoleAnnotation = "eks.amazonaws.com/role-arn"
export const storeName = (reader: string): string => `aws-secrets-${reader}`

/**
 * The External Secrets Operator on AWS Secrets Manager. Per reader (a workload's process, or the
 * observability charts) a Kubernetes service account bound to its IAM role (IRSA) and a namespaced
 * SecretStore that authenticates as it: the operator requests that account's token and assumes
 * that role, so a store can fetch only its reader's secrets. Each Kubernetes Secret of secrets.ts is
 * synced through the store of a reader entitled to everything in it. The pods run as the workloads'
 * service account, which has no IAM role: they hold no AWS credentials at all.
 */
export class AwsExternalSecrets extends pulumi.ComponentResource implements SecretDelivery {
  readonly ready: ReadonlyArray<pulumi.Resource>

  constructor(name: string, args: AwsExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:AwsExternalSecrets", name, {}, opts)
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
    const stores = new Map(
      args.readers.map((r) => {
        const namespace = args.namespaceFor(r.namespace)
        const sa = new k8s.core.v1.ServiceAccount(
          r.serviceAccount,
          {
            metadata: {
              name: r.serviceAccount,
              namespace,
              labels: { "app.kubernetes.io/part-of": "brandme", "brandme.io/secret-reader": r.reader },
              annotations: { [IrsaRoleAnnotation]: r.roleArn }
            },
            // only the operator uses it, through the TokenRequest API; no pod mounts it
            automountServiceAccountToken: false
          },
          { ...o, dependsOn: [...args.after] }
        )
        const store = new k8s.apiextensions.CustomResource(
          storeName(r.reader),
          {
            apiVersion: "external-secrets.io/v1beta1",
            kind: "SecretStore",
            metadata: { name: storeName(r.reader), namespace },
            spec: {
              provider: {
                aws: {
                  service: "SecretsManager",
                  region: args.region,
                  auth: { jwt: { serviceAccountRef: { name: r.serviceAccount } } }
                }
              }
            }
          },
          { ...o, dependsOn: [operator, sa] }
        )
        return [r.reader, { reader: r, store }] as const
      })
    )
    this.ready = mirroredSecrets().map((m) => {
      const owner = [...stores.values()].find(
        ({ reader }) => reader.namespace === m.namespace && m.entries.every((e) => reader.secrets.includes(e.def.name))
      )
      if (owner === undefined)
        throw new pulumi.RunError(`Kubernetes Secret ${m.secret}: no secret reader may read all of its entries`)
      return new k8s.apiextensions.CustomResource(
        `external-${m.secret}`,
        {
          apiVersion: "external-secrets.io/v1beta1",
          kind: "ExternalSecret",
          metadata: {
            name: m.secret,
            namespace: args.namespaceFor(m.namespace),
            annotations: { "pulumi.com/waitFor": "condition=Ready" }
          },
          spec: {
            refreshInterval: "1h",
            secretStoreRef: { kind: "SecretStore", name: storeName(owner.reader.reader) },
            target: { name: m.secret, creationPolicy: "Owner", ...template(m) },
            data: m.entries.map((e) => ({ secretKey: e.key, remoteRef: { key: e.def.id } }))
          }
        },
        { ...o, dependsOn: [owner.store] }
      )
    })
    this.registerOutputs({})
  }
}
