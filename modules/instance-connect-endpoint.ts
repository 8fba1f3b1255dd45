import { Ec2InstanceConnectEndpoint } from "@cdktf/provider-aws/lib/ec2-instance-connect-endpoint";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";

export interface InstanceConnectEndpointProps {
  /** Name of the endpoint's security group, also its `Name` tag and the endpoint's. */
  readonly name: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** The security group of the instances the endpoint may reach; it gains one ingress rule. */
  readonly targetSecurityGroupId: string;
  /** What the target instances are, in descriptions ("SSH to <targetDescription>"), e.g. "the web servers". */
  readonly targetDescription: string;
  /** The protocol on `port`, in descriptions. @default "SSH" */
  readonly protocol?: string;
  /** @default 22 */
  readonly port?: number;
}

/**
 * An EC2 Instance Connect Endpoint: an IAM-authorised, CloudTrail-logged tunnel to one TCP port of
 * the instances in a security group, with no port open to the internet. Its own security group may
 * reach only that port of that group, and the target group admits that port from it only (group
 * references, never a CIDR).
 */
export class InstanceConnectEndpoint extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly securityGroupId: string;
  readonly endpoint: Ec2InstanceConnectEndpoint;
  readonly endpointId: string;

  constructor(scope: Construct, id: string, props: InstanceConnectEndpointProps) {
    super(scope, id);
    const port = props.port ?? 22;
    const protocol = props.protocol ?? "SSH";

    this.securityGroup = new SecurityGroup(this, "security-group", {
      name: props.name,
      description: `EC2 Instance Connect Endpoint: ${protocol} to ${props.targetDescription} only`,
      vpcId: props.vpcId,
      tags: { Name: props.name },
    });
    this.securityGroupId = this.securityGroup.id;
    new VpcSecurityGroupEgressRule(this, "egress-to-target", {
      securityGroupId: this.securityGroup.id,
      description: `${protocol} to ${props.targetDescription}`,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: props.targetSecurityGroupId,
    });
    new VpcSecurityGroupIngressRule(this, "target-ingress-from-endpoint", {
      securityGroupId: props.targetSecurityGroupId,
      description: `${protocol} from the EC2 Instance Connect Endpoint`,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: this.securityGroup.id,
    });

    this.endpoint = new Ec2InstanceConnectEndpoint(this, "endpoint", {
      subnetId: props.subnetId,
      securityGroupIds: [this.securityGroup.id],
      // The endpoint's own address is then the source the target sees, so the group rule above matches.
      preserveClientIp: false,
      tags: { Name: props.name },
    });
    this.endpointId = this.endpoint.id;
  }
}
