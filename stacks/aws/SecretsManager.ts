// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as iam from "@pulumi/aws/iam/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as secretsmanager from "@pulumi/aws/secretsmanager/index.js"
import * as pulumi from "@pulumi/pulumi"
import { type ProcessName, ServiceNames } from "../../shared/ServiceCatalog.js"
import { type SecretDef, SecretDefs, type SecretName, type SecretNamespace, secretsFor } from "../secrets.js"
import { irsaRole, type OidcIssuer } from "./irsa.js"

/** One identity that reads secrets: a workload's process, or the observability charts. */
export type SecretReader = ProcessName | "observability"

export interface SecretReaderRole {
  readonly reader: SecretReader
  readonly namespace: SecretNamespace
  /** the Kubernetes service account the IAM role trusts (IRSA); the reader's SecretStore authenticates as it */
  readonly serviceAccount: string
  readonly roleArn: pulumi.Output<string>
  /** exactly the secrets this role may read */
  readonly secrets: ReadonlyArray<SecretName>
}

export const readerServiceAccount = (reader: SecretReader): string => `brandme-secrets-${reader}`

/**
 * What each reader may read: a process, the secrets its catalog entry (shared/ServiceCatalog.ts
 * `secretsOf`) gives it as env; the observability charts, the secrets mirrored into their namespace.
 * Raw secrets (passwords and AUTH tokens, which pods get inside the URLs) are read by no one.
 */
export const readerSecrets = (): ReadonlyArray<{
  readonly reader: SecretReader
  readonly namespace: SecretNamespace
  readonly secrets: ReadonlyArray<SecretDef>
}> => {
  const processes: ReadonlyArray<ProcessName> = [...ServiceNames, "migrate"]
  const app = processes.flatMap((p) => {
    const envs = new Set(secretsFor(p).map((s) => s.env))
    const secrets = SecretDefs.filter((d) => d.target?.namespace === "app" && d.env !== undefined && envs.has(d.env))
    return secrets.length === 0 ? [] : [{ reader: p, namespace: "app" as const, secrets }]
  })
  const observability = SecretDefs.filter((d) => d.target?.namespace === "observability")
  return [...app, { reader: "observability", namespace: "observability", secrets: observability }]
}

export interface SecretsManagerArgs {
  readonly provider: Provider
  readonly region: string
  readonly kmsKeyArn: pulumi.Input<string>
  readonly oidc: OidcIssuer
  /** the Kubernetes namespaces the app and the observability readers live in */
  readonly namespaces: Readonly<Record<SecretNamespace, string>>
  readonly values: Readonly<Record<SecretName, pulumi.Output<string>>>
}

/**
 * Secrets Manager: one secret (+ current version) per SecretDefs entry, encrypted with the stack's
 * KMS key; one IAM role per reader (IRSA, bound to one Kubernetes service account) allowed
 * GetSecretValue on exactly its own secrets' ARNs and kms:Decrypt through Secrets Manager only.
 */
export class AwsSecretStore extends pulumi.ComponentResource {
  readonly readers: ReadonlyArray<SecretReaderRole>
  readonly secretArns: Readonly<Record<SecretName, pulumi.Output<string>>>

  constructor(name: string, args: SecretsManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:AwsSecretStore", name, {}, opts)
    const o = { parent: this, provider: args.provider }

    const arns = Object.fromEntries(
      SecretDefs.map((def) => {
        const secret = new secretsmanager.Secret(
          `${name}-${def.id}`,
          {
            name: def.id,
            description: `Brand.Me ${def.name}`,
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: 7,
            tags: { app: "brandme" }
          },
          o
        )
        new secretsmanager.SecretVersion(
          `${name}-${def.id}`,
          { secretId: secret.id, secretString: pulumi.secret(args.values[def.name]) },
          o
        )
        return [def.name, secret.arn] as const
      })
    ) as Record<SecretName, pulumi.Output<string>>
    this.secretArns = arns

    this.readers = readerSecrets().map(({ reader, namespace, secrets }) => {
      const serviceAccount = readerServiceAccount(reader)
      const role = irsaRole(
        `${name}-reader-${reader}`,
        {
          oidc: args.oidc,
          namespace: args.namespaces[namespace],
          serviceAccount,
          description: `reads the secrets of ${reader} only`
        },
        o
      )
      new iam.RolePolicy(
        `${name}-reader-${reader}`,
        {
          role: role.name,
          policy: pulumi
            .all([pulumi.all(secrets.map((d) => arns[d.name])), pulumi.output(args.kmsKeyArn)])
            .apply(([resources, key]) =>
              JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                  {
                    Sid: "OwnSecretsOnly",
                    Effect: "Allow",
                    Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    Resource: resources
                  },
                  {
                    Sid: "DecryptThroughSecretsManager",
                    Effect: "Allow",
                    Action: "kms:Decrypt",
                    Resource: key,
                    Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } }
                  }
                ]
              })
            )
        },
        o
      )
      return { reader, namespace, serviceAccount, roleArn: role.arn, secrets: secrets.map((d) => d.name) }
    })
    this.registerOutputs({})
  }
}
