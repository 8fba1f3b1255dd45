import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { AllowlistedSecurityGroup } from "../modules/allowlisted-security-group";
import { AwsAccount } from "../modules/aws-account";
import { ProjectRole } from "../modules/project-role";
import { ProjectStack } from "./project-stack";
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

    this.flowLogs(network.vpc.id, config);

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

  /**
   * CKV2_AWS_11: every accepted and rejected flow of the VPC to a log group with the project's
   * retention, delivered by a role only VPC Flow Logs of this account may assume (VPC User Guide,
   * "Publish flow logs to CloudWatch Logs": the IAM role and its confused-deputy conditions).
   */
  private flowLogs(vpcId: string, config: EnvironmentConfig): void {
    const account = new AwsAccount(this, "account", config.region);
    const logGroup = new CloudwatchLogGroup(this, "flow-log-group", {
      name: this.names.logGroup("vpc/flow-logs"),
      retentionInDays: config.logRetentionDays,
    });
    const delivery = new ProjectRole(this, "flow-logs-role", {
      roleName: this.names.role("vpc-flow-logs"),
      description: "VPC Flow Logs: deliver the VPC's flow logs to its log group",
      trust: {
        principal: { Service: "vpc-flow-logs.amazonaws.com" },
        conditions: {
          StringEquals: { "aws:SourceAccount": account.accountId },
          ArnLike: { "aws:SourceArn": account.arn("ec2", "vpc-flow-log/*") },
        },
      },
    });
    const permissions = delivery.allow("deliver-flow-logs", [
      {
        sid: "WriteFlowLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: [`${logGroup.arn}:*`],
      },
    ]);
    new FlowLog(this, "flow-log", {
      vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: delivery.roleArn,
      maxAggregationInterval: 600,
      tags: { Name: `${this.names.prefix}-vpc` },
      dependsOn: [permissions],
    });
  }
}
