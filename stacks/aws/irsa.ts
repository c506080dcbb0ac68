// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as iam from "@pulumi/aws/iam/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as pulumi from "@pulumi/pulumi"

/** The cluster's OIDC issuer as IAM knows it: the provider's ARN and its URL without the scheme. */
export interface OidcIssuer {
  readonly providerArn: pulumi.Input<string>
  readonly issuerHost: pulumi.Input<string>
}

/**
 * An IAM role that exactly one Kubernetes service account may assume (IRSA): the trust policy names
 * the cluster's OIDC provider and pins both `sub` (namespace and service account) and `aud`.
 */
export const irsaRole = (
  name: string,
  args: {
    readonly oidc: OidcIssuer
    readonly namespace: string
    readonly serviceAccount: string
    readonly description: string
  },
  opts: pulumi.CustomResourceOptions & { readonly provider: Provider }
): iam.Role =>
  new iam.Role(
    name,
    {
      description: args.description,
      assumeRolePolicy: pulumi.all([args.oidc.providerArn, args.oidc.issuerHost]).apply(([arn, host]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: arn },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: {
                  [`${host}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
                  [`${host}:aud`]: "sts.amazonaws.com"
                }
              }
            }
          ]
        })
      ),
      tags: { app: "brandme" }
    },
    opts
  )

/** A trust policy for an AWS service principal (EKS, EC2). */
export const servicePrincipalPolicy = (service: string): string =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }]
  })
