import * as k8s from "@pulumi/kubernetes"
import type * as pulumi from "@pulumi/pulumi"
import type { ChartRef } from "../charts.js"

export interface ReleaseArgs {
  readonly chart: ChartRef
  readonly namespace: pulumi.Input<string>
  readonly values: pulumi.Input<Record<string, unknown>>
  /** for charts installed into their own namespace (controllers we do not write policies for) */
  readonly createNamespace?: boolean
}

/** A Helm release with a fixed release name (so service names are predictable) and a pinned chart. */
export const release = (name: string, args: ReleaseArgs, opts: pulumi.CustomResourceOptions): k8s.helm.v3.Release =>
  new k8s.helm.v3.Release(
    name,
    {
      name,
      chart: args.chart.chart,
      version: args.chart.version,
      repositoryOpts: { repo: args.chart.repo },
      namespace: args.namespace,
      createNamespace: args.createNamespace ?? false,
      values: args.values,
      atomic: true,
      cleanupOnFail: true,
      timeout: 900
    },
    opts
  )
