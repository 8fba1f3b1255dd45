import { Ec2InstanceConnectEndpoint } from "@cdktf/provider-aws/lib/ec2-instance-connect-endpoint";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { ProjectStack } from "./project-stack";
import { SSH_PORT, type VpcStack } from "./vpc";

/**
 * EC2 Instance Connect Endpoint: an IAM-authorised, CloudTrail-logged tunnel to port 22 of the
 * controller, so CD and admins use SSH without any port 22 open to the internet.
 */
export class ConnectStack extends ProjectStack<"connect"> {
  constructor(scope: Construct, config: EnvironmentConfig, vpcStack: VpcStack) {
    super(scope, "connect", { config });
    const vpc = this.outputsOf(vpcStack);

    const endpointFirewall = new SecurityGroup(this, "endpoint-security-group", {
      name: `${this.names.prefix}-instance-connect`,
      description: "EC2 Instance Connect Endpoint: SSH to the controller only",
      vpcId: vpc.vpc_id,
      tags: { Name: `${this.names.prefix}-instance-connect` },
    });
    new VpcSecurityGroupEgressRule(this, "endpoint-ssh-to-controller", {
      securityGroupId: endpointFirewall.id,
      description: "SSH to the controller",
      ipProtocol: "tcp",
      fromPort: SSH_PORT,
      toPort: SSH_PORT,
      referencedSecurityGroupId: vpc.controller_security_group_id,
    });
    new VpcSecurityGroupIngressRule(this, "controller-ssh-from-endpoint", {
      securityGroupId: vpc.controller_security_group_id,
      description: "SSH from the EC2 Instance Connect Endpoint",
      ipProtocol: "tcp",
      fromPort: SSH_PORT,
      toPort: SSH_PORT,
      referencedSecurityGroupId: endpointFirewall.id,
    });

    const endpoint = new Ec2InstanceConnectEndpoint(this, "endpoint", {
      subnetId: vpc.public_subnet_id,
      securityGroupIds: [endpointFirewall.id],
      // The endpoint's own address is the source the controller sees, so the group rule above matches.
      preserveClientIp: false,
      tags: { Name: `${this.names.prefix}-instance-connect` },
    });

    this.exportOutputs({
      instance_connect_endpoint_id: endpoint.id,
      instance_connect_security_group_id: endpointFirewall.id,
    });
  }
}
