import { Eip } from "@cdktf/provider-aws/lib/eip";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { AllowlistedSecurityGroup } from "../modules/allowlisted-security-group";
import { ProjectStack } from "../modules/project-stack";
import { PublicNetwork } from "../modules/public-network";

/** Ports of the controller that the network knows about. */
export const SSH_PORT = 22;
export const MQTT_TLS_PORT = 8883;
export const HTTPS_PORT = 443;

/** The network the controller lives in, its fixed public address and its firewall. */
export class VpcStack extends ProjectStack<"vpc"> {
  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "vpc", { config });
    const network = new PublicNetwork(this, "network", {
      name: this.names.prefix,
      vpcCidr: config.network.vpcCidr,
      publicSubnetCidr: config.network.publicSubnetCidr,
      availabilityZone: config.network.availabilityZone ?? `${config.region}a`,
    });

    // SSH from the Instance Connect Endpoint is added by the connect stack; this group only ever
    // admits the networks the config lists.
    const controllerFirewall = new AllowlistedSecurityGroup(this, "controller-security-group", {
      name: `${this.names.prefix}-controller`,
      description: "Smart-home controller: allowlisted admin and API networks only",
      vpcId: network.vpc.id,
      ingress: [
        { purpose: "SSH (admin allowlist)", port: SSH_PORT, cidrs: config.adminCidrs },
        { purpose: "Controller API (API allowlist)", port: config.controller.port, cidrs: config.apiCidrs },
      ],
      egress: [
        { purpose: "HTTPS to AWS APIs (ECR, Secrets Manager, SSM, IoT) and OS packages", port: HTTPS_PORT },
        { purpose: "MQTT over TLS to AWS IoT Core", port: MQTT_TLS_PORT },
      ],
    });

    // The address outlives instance replacements, so allowlists elsewhere can name it.
    const controllerAddress = new Eip(this, "controller-eip", {
      domain: "vpc",
      tags: { Name: `${this.names.prefix}-controller` },
    });

    this.exportOutputs({
      vpc_id: network.vpc.id,
      public_subnet_id: network.publicSubnet.id,
      controller_security_group_id: controllerFirewall.securityGroupId,
      controller_eip_allocation_id: controllerAddress.allocationId,
      controller_public_ip: controllerAddress.publicIp,
    });
  }
}
