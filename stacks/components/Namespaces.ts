import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"

export const PlatformNamespaces = ["brandme", "brandme-staging", "observability"] as const
export type PlatformNamespace = (typeof PlatformNamespaces)[number]

export interface NamespacesArgs {
  readonly provider: k8s.Provider
}

/** The guide's namespaces, labelled for Pod Security admission. */
export class Namespaces extends pulumi.ComponentResource {
  readonly byName: Readonly<Record<PlatformNamespace, k8s.core.v1.Namespace>>

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Namespaces", name, {}, opts)
    const make = (ns: PlatformNamespace): k8s.core.v1.Namespace =>
      new k8s.core.v1.Namespace(
        ns,
        {
          metadata: {
            name: ns,
            labels: {
              "app.kubernetes.io/part-of": "brandme",
              // Our pods meet "restricted" (the stack tests check it); enforcement stays at "baseline" so a
              // third-party chart in the namespace (NATS, ACME solvers) is warned about, not rejected.
              // observability runs node exporters that need host access.
              "pod-security.kubernetes.io/enforce": ns === "observability" ? "privileged" : "baseline",
              "pod-security.kubernetes.io/warn": "restricted",
              "pod-security.kubernetes.io/audit": "restricted"
            }
          }
        },
        { parent: this, provider: args.provider }
      )
    this.byName = {
      brandme: make("brandme"),
      "brandme-staging": make("brandme-staging"),
      observability: make("observability")
    }
    this.registerOutputs({})
  }
}
