import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Fn, Op, TerraformVariable, Token } from "cdktf";
import type { Construct } from "constructs";
import { join } from "node:path";
import type { EnvironmentConfig } from "../config";
import { BOOTSTRAP_IMAGE_TAG } from "../config/schema";
import { ControllerRedeploy } from "../modules/controller-redeploy";
import { GeneratedSecret } from "../modules/generated-secret";
import { HardenedInstance } from "../modules/hardened-instance";
import { ProjectStack } from "./project-stack";
import { renderTemplateFile } from "../modules/template";
import type { EcrStack } from "./ecr";
import type { RolesStack } from "./roles";
import type { VpcStack } from "./vpc";

/** The standard AL2023 image (it has the SSM agent; the minimal one does not), arm64 for Graviton. */
export const CONTROLLER_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
export const USER_DATA_TEMPLATE = join(__dirname, "controller-user-data.sh");
export const CONTROLLER_CONTAINER_NAME = "controller";
/** The Terraform variable CD sets (`TF_VAR_controller_image_tag=<git sha>`); the redeploy is keyed on it. */
export const CONTROLLER_IMAGE_TAG_VARIABLE = "controller_image_tag";
/** Length of the generated API token (letters and digits). */
export const API_TOKEN_LENGTH = 48;

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
    const imageTag = new TerraformVariable(this, CONTROLLER_IMAGE_TAG_VARIABLE, {
      type: "string",
      default: config.controller.imageTag,
      description: "Tag of the controller image in ECR to run (CD passes the git SHA); changing it redeploys the container",
      validation: [
        {
          condition: `\${can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.${CONTROLLER_IMAGE_TAG_VARIABLE})) && var.${CONTROLLER_IMAGE_TAG_VARIABLE} != "latest"}`,
          errorMessage: "controller_image_tag must be a Docker tag (a version or git SHA), never latest",
        },
      ],
    });
    imageTag.overrideLogicalId(CONTROLLER_IMAGE_TAG_VARIABLE);
    new NullProvider(this, "null");

    // The controller API's bearer token: rotate it by putting a new value and restarting the container.
    const apiToken = new GeneratedSecret(this, "controller-api-token", {
      secretName: this.names.controllerApiTokenSecret,
      description: "Bearer token of the controller's HTTP API",
      length: API_TOKEN_LENGTH,
    });
    this.moveIntoWrapper(apiToken, { secret: "controller-api-token", version: "controller-api-token-version" });

    const host = new HardenedInstance(this, "controller-host", {
      name: `${this.names.prefix}-controller`,
      amiParameter: CONTROLLER_AMI_PARAMETER,
      instanceType: config.controller.instanceType,
      subnetId: vpc.public_subnet_id,
      securityGroupIds: [vpc.controller_security_group_id],
      instanceProfileName: roles.controller_instance_profile_name,
      rootVolumeGiB: config.controller.rootVolumeGiB,
      // The controller container reads the instance role through IMDS.
      metadataHopLimit: 2,
      elasticIpAllocationId: vpc.controller_eip_allocation_id,
      userData: renderTemplateFile(USER_DATA_TEMPLATE, {
        swap_mib: config.controller.swapMiB,
        repository_url: ecr.controller_repository_url,
        region: config.region,
        environment: config.name,
        secret_id: this.names.controllerSecret,
        api_token_secret_id: this.names.controllerApiTokenSecret,
        device_table: this.names.deviceTable,
        topic_root: this.names.topicRoot,
        controller_port: config.controller.port,
        container_name: CONTROLLER_CONTAINER_NAME,
        log_group: logs.name,
      }),
    });
    this.moveIntoWrapper(host, { instance: "controller", "eip-association": "controller-eip-association" });

    const redeploy = new ControllerRedeploy(this, "controller-redeploy", {
      instanceId: host.instanceId,
      repositoryUrl: ecr.controller_repository_url,
      imageTag: imageTag.stringValue,
      region: config.region,
    });
    // The first deploy of an environment runs before any image is pushed (and before the iot
    // stack writes the controller's identity): with the bootstrap tag there is nothing to run, so
    // the instance comes up without a container and cd.yml's first real tag starts it.
    redeploy.resource.count = Token.asNumber(Fn.conditional(Op.eq(imageTag.stringValue, BOOTSTRAP_IMAGE_TAG), 0, 1));

    this.exportOutputs({
      controller_instance_id: host.instanceId,
      controller_public_ip: vpc.controller_public_ip,
    });
  }
}
