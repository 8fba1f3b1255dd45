import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Construct } from "constructs";

export interface PublicNetworkProps {
  /** Name tag prefix. */
  readonly name: string;
  readonly vpcCidr: string;
  readonly publicSubnetCidr: string;
  readonly availabilityZone: string;
}

/**
 * A VPC with one public subnet routed to an internet gateway. Instances get no automatic public
 * IP (they take an Elastic IP on purpose), and the default security group allows nothing.
 */
export class PublicNetwork extends Construct {
  readonly vpc: Vpc;
  readonly publicSubnet: Subnet;

  constructor(scope: Construct, id: string, props: PublicNetworkProps) {
    super(scope, id);
    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    // Adopting the default security group with no rules closes it (checkov CKV2_AWS_12).
    new DefaultSecurityGroup(this, "default-security-group", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: `${props.name}-default-closed` },
    });
    const gateway = new InternetGateway(this, "internet-gateway", {
      vpcId: this.vpc.id,
      tags: { Name: props.name },
    });
    this.publicSubnet = new Subnet(this, "public-subnet", {
      vpcId: this.vpc.id,
      cidrBlock: props.publicSubnetCidr,
      availabilityZone: props.availabilityZone,
      mapPublicIpOnLaunch: false,
      tags: { Name: `${props.name}-public` },
    });
    // Routes are aws_route resources, as terraform-aws-modules/vpc does: an inline `route` block is
    // an attribute-as-block that must list every attribute of the provider version in use (aws 6.48
    // added odb_network_arn, so the inline form fails `terraform validate` there). The route table
    // therefore has no inline routes; the provider forbids mixing the two forms
    // (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/route_table).
    const routes = new RouteTable(this, "public-routes", {
      vpcId: this.vpc.id,
      tags: { Name: `${props.name}-public` },
    });
    new Route(this, "public-default-route", {
      routeTableId: routes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: gateway.id,
    });
    new RouteTableAssociation(this, "public-subnet-routes", {
      subnetId: this.publicSubnet.id,
      routeTableId: routes.id,
    });
  }
}
