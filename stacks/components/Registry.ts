// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as artifactregistry from "@pulumi/gcp/artifactregistry/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"

export interface RegistryArgs {
  readonly project: string
  readonly region: string
  readonly provider: Provider
}

/** Artifact Registry (Docker) holding the one platform image. */
export class Registry extends pulumi.ComponentResource {
  readonly imageRepository: pulumi.Output<string>

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:Registry", name, {}, opts)
    const repo = new artifactregistry.Repository(
      name,
      {
        location: args.region,
        repositoryId: "brandme",
        format: "DOCKER",
        description: "Brand.Me platform images",
        dockerConfig: { immutableTags: true }
      },
      { parent: this, provider: args.provider }
    )
    this.imageRepository = pulumi.interpolate`${args.region}-docker.pkg.dev/${args.project}/${repo.repositoryId}/brandme`
    this.registerOutputs({ imageRepository: this.imageRepository })
  }
}
