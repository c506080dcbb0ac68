// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as secretmanager from "@pulumi/gcp/secretmanager/index.js"
import * as serviceaccount from "@pulumi/gcp/serviceaccount/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"
import { type SecretName, SecretDefs } from "../secrets.js"

export interface SecretStoreArgs {
  readonly project: string
  readonly provider: Provider
  readonly workloadPool: string
  /** the Kubernetes service account the workloads (and the ClusterSecretStore) run as */
  readonly ksa: { readonly namespace: string; readonly name: string }
  readonly values: Readonly<Record<SecretName, pulumi.Output<string>>>
}

/**
 * Secret Manager: one secret (+ current version) per SecretDefs entry, readable only by the
 * workloads' Google service account, which only the workloads' Kubernetes service account
 * may impersonate (workload identity).
 */
export class SecretStore extends pulumi.ComponentResource {
  readonly workloadServiceAccountEmail: pulumi.Output<string>
  readonly secretIds: ReadonlyArray<pulumi.Output<string>>

  constructor(name: string, args: SecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:SecretStore", name, {}, opts)
    const o = { parent: this, provider: args.provider }

    const gsa = new serviceaccount.Account(
      `${name}-workloads`,
      { accountId: "brandme-workloads", displayName: "Brand.Me workloads (via workload identity)" },
      o
    )
    new serviceaccount.IAMMember(
      `${name}-workload-identity`,
      {
        serviceAccountId: gsa.name,
        role: "roles/iam.workloadIdentityUser",
        member: `serviceAccount:${args.workloadPool}[${args.ksa.namespace}/${args.ksa.name}]`
      },
      o
    )

    this.secretIds = SecretDefs.map((def) => {
      const secret = new secretmanager.Secret(
        `${name}-${def.id}`,
        { secretId: def.id, replication: { auto: {} }, labels: { app: "brandme" } },
        o
      )
      new secretmanager.SecretVersion(
        `${name}-${def.id}`,
        { secret: secret.id, secretData: pulumi.secret(args.values[def.name]) },
        o
      )
      new secretmanager.SecretIamMember(
        `${name}-${def.id}-accessor`,
        {
          project: args.project,
          secretId: secret.secretId,
          role: "roles/secretmanager.secretAccessor",
          member: pulumi.interpolate`serviceAccount:${gsa.email}`
        },
        o
      )
      return secret.secretId
    })

    this.workloadServiceAccountEmail = gsa.email
    this.registerOutputs({ workloadServiceAccountEmail: this.workloadServiceAccountEmail })
  }
}
