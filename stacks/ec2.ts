import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { EipAssociation } from "@cdktf/provider-aws/lib/eip-association";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import type { Construct } from "constructs";
import { join } from "node:path";
import type { EnvironmentConfig } from "../config";
import { ProjectStack } from "../modules/project-stack";
import { renderTemplateFile } from "../modules/template";
import type { EcrStack } from "./ecr";
import type { RolesStack } from "./roles";
import type { VpcStack } from "./vpc";

/** The standard AL2023 image (it has the SSM agent; the minimal one does not), arm64 for Graviton. */
export const CONTROLLER_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
export const USER_DATA_TEMPLATE = join(__dirname, "controller-user-data.sh");
export const CONTROLLER_CONTAINER_NAME = "controller";

export interface Ec2StackDependencies {
  readonly vpc: VpcStack;
  readonly roles: RolesStack;
  readonly ecr: EcrStack;
}

/** The controller host: a t4g.nano that installs Docker on first boot and runs the controller image. */
export class Ec2Stack extends ProjectStack<"ec2"> {
  constructor(scope: Construct, config: EnvironmentConfig, dependencies: Ec2StackDependencies) {
    super(scope, "ec2", { config });
    const vpc = this.outputsOf(dependencies.vpc);
    const roles = this.outputsOf(dependencies.roles);
    const ecr = this.outputsOf(dependencies.ecr);

    const logs = new CloudwatchLogGroup(this, "controller-logs", {
      name: this.names.controllerLogGroup,
      retentionInDays: config.logRetentionDays,
    });
    const ami = new DataAwsSsmParameter(this, "al2023-arm64-ami", { name: CONTROLLER_AMI_PARAMETER });

    const instance = new Instance(this, "controller", {
      ami: ami.value,
      instanceType: config.controller.instanceType,
      subnetId: vpc.public_subnet_id,
      vpcSecurityGroupIds: [vpc.controller_security_group_id],
      iamInstanceProfile: roles.controller_instance_profile_name,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        // 2 hops: the controller container reads the instance role through IMDS.
        httpPutResponseHopLimit: 2,
      },
      rootBlockDevice: {
        volumeType: "gp3",
        volumeSize: config.controller.rootVolumeGiB,
        encrypted: true,
        deleteOnTermination: true,
      },
      // Standard credits: a busy controller slows down instead of running up a bill.
      creditSpecification: { cpuCredits: "standard" },
      ebsOptimized: true,
      userData: renderTemplateFile(USER_DATA_TEMPLATE, {
        swap_mib: config.controller.swapMiB,
        repository_url: ecr.controller_repository_url,
        image_tag: config.controller.imageTag,
        region: config.region,
        environment: config.name,
        secret_id: this.names.controllerSecret,
        controller_port: config.controller.port,
        container_name: CONTROLLER_CONTAINER_NAME,
        log_group: logs.name,
      }),
      userDataReplaceOnChange: true,
      // A newer AMI must not replace the running controller on an unrelated apply; roll it on
      // purpose with `terraform apply -replace` (see README).
      lifecycle: { ignoreChanges: ["ami"] },
      tags: { Name: `${this.names.prefix}-controller` },
    });
    new EipAssociation(this, "controller-eip-association", {
      allocationId: vpc.controller_eip_allocation_id,
      instanceId: instance.id,
    });

    this.exportOutputs({
      controller_instance_id: instance.id,
      controller_public_ip: vpc.controller_public_ip,
    });
  }
}
