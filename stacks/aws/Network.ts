// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as ec2 from "@pulumi/aws/ec2/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { AwsConfig } from "../config.js"

export interface AwsNetworkArgs {
  readonly aws: AwsConfig
  readonly provider: Provider
  readonly clusterName: string
}

/**
 * VPC across three zones with three tiers of subnets: public (NAT gateways, the ingress NLB), private
 * (nodes and pods; internet egress through NAT only) and data (RDS and ElastiCache; a route table with
 * no route out at all, so nothing there reaches or is reached from the internet).
 */
export class AwsNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>
  readonly privateSubnetIds: ReadonlyArray<pulumi.Output<string>>
  readonly publicSubnetIds: ReadonlyArray<pulumi.Output<string>>
  readonly dataSubnetIds: ReadonlyArray<pulumi.Output<string>>

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:AwsNetwork", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const a = args.aws
    const tags = (n: string, extra: Record<string, string> = {}) => ({ Name: n, app: "brandme", ...extra })
    const clusterTag = `kubernetes.io/cluster/${args.clusterName}`

    const vpc = new ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: a.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(`${name}-vpc`) },
      o
    )
    const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags(`${name}-igw`) }, o)

    const subnet = (tier: string, i: number, cidr: string, role: Record<string, string>) =>
      new ec2.Subnet(
        `${name}-${tier}-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidr,
          availabilityZone: a.availabilityZones[i] ?? "",
          mapPublicIpOnLaunch: false,
          tags: tags(`${name}-${tier}-${a.availabilityZones[i] ?? i}`, { tier, ...role })
        },
        o
      )
    // the role tags tell Kubernetes' load balancer code which subnets an internet-facing NLB may use
    const publics = a.publicSubnetCidrs.map((c, i) => subnet("public", i, c, { "kubernetes.io/role/elb": "1" }))
    const privates = a.privateSubnetCidrs.map((c, i) =>
      subnet("private", i, c, { "kubernetes.io/role/internal-elb": "1", [clusterTag]: "shared" })
    )
    const data = a.dataSubnetCidrs.map((c, i) => subnet("data", i, c, {}))

    const publicRt = new ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: tags(`${name}-public`) }, o)
    new ec2.Route(
      `${name}-public-internet`,
      { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      o
    )
    publics.forEach((s, i) => {
      new ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: s.id, routeTableId: publicRt.id }, o)
    })

    const natCount = a.singleNatGateway ? 1 : publics.length
    const nats = publics.slice(0, natCount).map((s, i) => {
      const eip = new ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: tags(`${name}-nat-${i}`) }, o)
      return new ec2.NatGateway(
        `${name}-nat-${i}`,
        { allocationId: eip.id, subnetId: s.id, connectivityType: "public", tags: tags(`${name}-nat-${i}`) },
        { ...o, dependsOn: [igw] }
      )
    })
    privates.forEach((s, i) => {
      const rt = new ec2.RouteTable(`${name}-private-${i}`, { vpcId: vpc.id, tags: tags(`${name}-private-${i}`) }, o)
      const nat = nats[Math.min(i, nats.length - 1)]
      if (nat !== undefined)
        new ec2.Route(
          `${name}-private-${i}-egress`,
          { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
          o
        )
      new ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: rt.id }, o)
    })
    // data subnets: the VPC's local route only
    const dataRt = new ec2.RouteTable(`${name}-data`, { vpcId: vpc.id, tags: tags(`${name}-data`) }, o)
    data.forEach((s, i) => {
      new ec2.RouteTableAssociation(`${name}-data-${i}`, { subnetId: s.id, routeTableId: dataRt.id }, o)
    })

    this.vpcId = vpc.id
    this.publicSubnetIds = publics.map((s) => s.id)
    this.privateSubnetIds = privates.map((s) => s.id)
    this.dataSubnetIds = data.map((s) => s.id)
    this.registerOutputs({ vpcId: this.vpcId })
  }
}
