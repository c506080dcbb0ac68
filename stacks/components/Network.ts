// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as compute from "@pulumi/gcp/compute/index.js"
import * as servicenetworking from "@pulumi/gcp/servicenetworking/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { GcpConfig } from "../config.js"

export interface NetworkArgs {
  readonly gcp: GcpConfig
  readonly provider: Provider
}

/**
 * VPC with one subnet (secondary ranges for pods and services), Cloud NAT for the private
 * nodes' egress, the private-service-access peering Cloud SQL and Memorystore use, and the
 * regional static IP the ingress controller's load balancer takes.
 */
export class Network extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<string>
  readonly networkSelfLink: pulumi.Output<string>
  readonly subnetSelfLink: pulumi.Output<string>
  readonly podsRangeName = "pods"
  readonly servicesRangeName = "services"
  /** Cloud SQL and Memorystore wait for this peering */
  readonly privateServiceAccess: servicenetworking.Connection
  readonly ingressAddress: pulumi.Output<string>

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:Network", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const { region } = args.gcp

    const vpc = new compute.Network(
      `${name}-vpc`,
      { autoCreateSubnetworks: false, routingMode: "REGIONAL", deleteDefaultRoutesOnCreate: false },
      o
    )
    const subnet = new compute.Subnetwork(
      `${name}-subnet`,
      {
        network: vpc.id,
        region,
        ipCidrRange: args.gcp.subnetCidr,
        privateIpGoogleAccess: true,
        secondaryIpRanges: [
          { rangeName: this.podsRangeName, ipCidrRange: args.gcp.podsCidr },
          { rangeName: this.servicesRangeName, ipCidrRange: args.gcp.servicesCidr }
        ],
        logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" }
      },
      o
    )
    const router = new compute.Router(`${name}-router`, { network: vpc.id, region }, o)
    new compute.RouterNat(
      `${name}-nat`,
      {
        router: router.name,
        region,
        natIpAllocateOption: "AUTO_ONLY",
        sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
        logConfig: { enable: true, filter: "ERRORS_ONLY" }
      },
      o
    )

    const [pscBase, pscPrefix] = args.gcp.privateServiceCidr.split("/")
    const pscRange = new compute.GlobalAddress(
      `${name}-private-services`,
      {
        network: vpc.id,
        purpose: "VPC_PEERING",
        addressType: "INTERNAL",
        address: pscBase ?? "",
        prefixLength: Number(pscPrefix ?? "16")
      },
      o
    )
    this.privateServiceAccess = new servicenetworking.Connection(
      `${name}-private-services`,
      { network: vpc.id, service: "servicenetworking.googleapis.com", reservedPeeringRanges: [pscRange.name] },
      o
    )

    const address = new compute.Address(
      `${name}-ingress-ip`,
      { region, addressType: "EXTERNAL", networkTier: "PREMIUM", description: "ingress-nginx load balancer" },
      o
    )

    this.networkId = vpc.id
    this.networkSelfLink = vpc.selfLink
    this.subnetSelfLink = subnet.selfLink
    this.ingressAddress = address.address
    this.registerOutputs({ networkId: this.networkId, ingressAddress: this.ingressAddress })
  }
}
