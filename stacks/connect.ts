import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { InstanceConnectEndpoint } from "../modules/instance-connect-endpoint";
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

    const instanceConnect = new InstanceConnectEndpoint(this, "instance-connect", {
      name: `${this.names.prefix}-instance-connect`,
      vpcId: vpc.vpc_id,
      subnetId: vpc.public_subnet_id,
      targetSecurityGroupId: vpc.controller_security_group_id,
      targetDescription: "the controller",
      port: SSH_PORT,
    });
    this.moveIntoWrapper(instanceConnect, {
      "security-group": "endpoint-security-group",
      "egress-to-target": "endpoint-ssh-to-controller",
      "target-ingress-from-endpoint": "controller-ssh-from-endpoint",
    });

    this.exportOutputs({
      instance_connect_endpoint_id: instanceConnect.endpointId,
      instance_connect_security_group_id: instanceConnect.securityGroupId,
    });
  }
}
