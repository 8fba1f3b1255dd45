import { IotProvisioningTemplate } from "@cdktf/provider-aws/lib/iot-provisioning-template";
import { IotThingGroup } from "@cdktf/provider-aws/lib/iot-thing-group";
import { IotThingType } from "@cdktf/provider-aws/lib/iot-thing-type";
import { Construct } from "constructs";
import type { ProjectNames } from "../../contracts/names";
import { deviceProvisioningTemplate } from "../../contracts/provisioning-template";
import type { AwsAccount } from "../../modules/aws-account";
import { ProjectRole } from "../../modules/project-role";
import type { ProvisioningHook } from "./provisioning-hook";

/** IoT's only pre-provisioning hook payload version. */
const HOOK_PAYLOAD_VERSION = "2020-04-01";

export interface FleetProvisioningProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly hook: ProvisioningHook;
  /** The device policy's name as data (for `template`), and as a reference to the resource. */
  readonly devicePolicy: { readonly name: string; readonly reference: string };
}

/**
 * Fleet provisioning by claim: the devices' thing type and group, the role IoT registers things
 * with, and the template that calls the pre-provisioning hook first.
 */
export class FleetProvisioning extends Construct {
  /** The template as data, with resource names instead of references (for the local platform). */
  readonly template: ReturnType<typeof deviceProvisioningTemplate>;
  readonly templateName: string;
  readonly thingGroupName: string;

  constructor(scope: Construct, id: string, { names, account, hook, devicePolicy }: FleetProvisioningProps) {
    super(scope, id);
    const thingType = new IotThingType(this, "thing-type", { name: names.deviceThingType, properties: { description: "Smart-home Raspberry Pi" } });
    const thingGroup = new IotThingGroup(this, "thing-group", { name: names.deviceThingGroup });
    this.thingGroupName = thingGroup.name;

    const templateProps = {
      thingTypeName: names.deviceThingType,
      thingGroupName: names.deviceThingGroup,
      devicePolicyName: devicePolicy.name,
      deviceConfiguration: { topicRoot: names.topicRoot },
    };
    this.template = deviceProvisioningTemplate(templateProps);
    const provisioningRole = new ProjectRole(this, "provisioning-role", {
      roleName: names.role("iot-provisioning"),
      description: "AWS IoT fleet provisioning: create things and certificates from the template",
      trust: { principal: { Service: "iot.amazonaws.com" }, conditions: { StringEquals: { "aws:SourceAccount": account.accountId } } },
    });
    const registration = provisioningRole.attachPolicy("things-registration", account.managedPolicyArn("service-role/AWSIoTThingsRegistration"));
    const template = new IotProvisioningTemplate(this, "provisioning-template", {
      name: names.provisioningTemplate,
      description: "Smart-home Raspberry Pi, by claim certificate and registered serial",
      enabled: true,
      type: "FLEET_PROVISIONING",
      provisioningRoleArn: provisioningRole.roleArn,
      preProvisioningHook: { targetArn: hook.functionArn, payloadVersion: HOOK_PAYLOAD_VERSION },
      // The same template as `template`, naming the resources through Terraform's references.
      templateBody: JSON.stringify(
        deviceProvisioningTemplate({ ...templateProps, thingTypeName: thingType.name, thingGroupName: thingGroup.name, devicePolicyName: devicePolicy.reference }),
      ),
      // IAM is eventually consistent: IoT must be able to assume the role and call the hook at once.
      dependsOn: [registration, hook.invokePermission],
    });
    this.templateName = template.name;
  }
}
