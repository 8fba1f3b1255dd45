import { IotProvisioningTemplate } from "@cdktf/provider-aws/lib/iot-provisioning-template";
import { IotThingGroup } from "@cdktf/provider-aws/lib/iot-thing-group";
import { IotThingType } from "@cdktf/provider-aws/lib/iot-thing-type";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { provisioningHookVariables } from "../contracts/function-environments";
import { claimPolicyDocument, type IotPolicyDescription } from "../contracts/iot-policies";
import { AGENT_RELEASE_JOB_PREFIX, AGENT_RELEASE_KEY_PREFIX } from "../contracts/agent-release";
import { deviceProvisioningTemplate } from "../contracts/provisioning-template";
import { SERIAL_TABLE_KEY, STRANDED_PROVISIONING_SECONDS } from "../contracts/serial-registry";
import { AwsAccount } from "../modules/aws-account";
import { ClaimCertificate } from "../modules/claim-certificate";
import { IotJobPresignRole } from "../modules/iot-job-presign-role";
import { ProjectIotPolicy } from "../modules/iot-policy";
import { ProjectRole } from "../modules/project-role";
import { ProjectStack } from "./project-stack";
import { ReleaseBucket } from "../modules/release-bucket";
import { ProjectFunction } from "./functions";
import { ProjectTable, type TableKeySchema } from "../modules/project-table";
import type { IotStack } from "./iot";
import type { RolesStack } from "./roles";

/** IoT's only pre-provisioning hook payload version. */
const HOOK_PAYLOAD_VERSION = "2020-04-01";

/**
 * How a new Raspberry Pi becomes a device: the serial registry, claim certificates per batch, the
 * pre-provisioning hook, and the fleet provisioning template.
 */
export class IotFleetStack extends ProjectStack<"iot-fleet"> {
  /** The tables this stack deploys, as data. */
  readonly tables: readonly TableKeySchema[];
  /** The policy of the claim certificates, as data. */
  readonly claimPolicy: IotPolicyDescription;
  /** The fleet provisioning template as data, with resource names instead of references. */
  readonly provisioningTemplate: { readonly templateName: string; readonly body: ReturnType<typeof deviceProvisioningTemplate> };

  constructor(scope: Construct, config: EnvironmentConfig, dependencies: { iot: IotStack; roles: RolesStack }) {
    super(scope, "iot-fleet", { config });
    const iot = this.outputsOf(dependencies.iot);
    const roles = this.outputsOf(dependencies.roles);
    const account = new AwsAccount(this, "account", config.region);
    const names = this.names;

    const serials = new ProjectTable(this, "serial-table", { tableName: names.serialTable, partitionKey: SERIAL_TABLE_KEY });
    this.tables = [serials.keySchema];
    const thingTypeName = names.deviceThingType;
    const thingGroupName = names.deviceThingGroup;
    const thingType = new IotThingType(this, "thing-type", { name: thingTypeName, properties: { description: "Smart-home Raspberry Pi" } });
    const thingGroup = new IotThingGroup(this, "thing-group", { name: thingGroupName });

    // --- Claim certificates, one per manufacturing batch -----------------------------------------
    this.claimPolicy = {
      policyName: `${names.prefix}-claim`,
      document: (arnPrefix) => claimPolicyDocument({ arnPrefix }, names.provisioningTemplate, names.provisioningClientPrefix),
    };
    const claimPolicy = new ProjectIotPolicy(this, "claim-policy", {
      policyName: this.claimPolicy.policyName,
      document: this.claimPolicy.document(account.arn("iot", "")),
    });
    const claims = config.fleet.batches.map((batch) => ({
      batch,
      claim: new ClaimCertificate(this, `claim-${batch.name}`, {
        batch: batch.name,
        active: batch.active,
        policy: claimPolicy,
        secretName: names.claimSecret(batch.name),
        // Terraform refreshes the secret's value; an operator building a device image reads it as
        // the break-glass administrator.
        readerArns: [roles.github_plan_role_arn, roles.github_deploy_role_arn, ...(config.breakGlassAdminRoleArn ? [config.breakGlassAdminRoleArn] : [])],
        deviceSettings: {
          endpoint: iot.iot_data_endpoint,
          templateName: names.provisioningTemplate,
          clientIdPrefix: names.provisioningClientPrefix,
        },
      }),
    }));

    // --- The pre-provisioning hook --------------------------------------------------------------
    const hook = new ProjectFunction(this, "provisioning-hook", {
      names,
      description: "Allows a device to provision once: active batch claim certificate, registered serial",
      environment: provisioningHookVariables({
        serialTable: serials.tableName,
        activeClaimCertificatesJson: Fn.jsonencode(
          claims.filter(({ batch }) => batch.active).map(({ batch, claim }) => ({ batch: batch.name, certificateId: claim.certificateId })),
        ),
        thingNamePrefix: names.prefix,
        strandedAfterSeconds: STRANDED_PROVISIONING_SECONDS,
      }),
      logRetentionDays: config.logRetentionDays,
      // IoT waits 5 s for the answer; more memory means more CPU and a shorter cold start.
      memorySizeMiB: 512,
      timeoutSeconds: 4,
    });
    serials.grant(hook.role, ["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    // Whether a stranded serial's thing exists (a serial provisioned, but RegisterThing failed).
    hook.role.allow("describe-device-things", [
      { sid: "DescribeDeviceThings", actions: ["iot:DescribeThing"], resources: [account.arn("iot", `thing/${names.prefix}-*`)] },
    ]);
    // IoT names no documented source ARN for hook invocations; the account scopes it.
    const invokeHook = hook.grantInvoke("iot", { principal: "iot.amazonaws.com", sourceAccount: account.accountId });

    // --- The provisioning template ----------------------------------------------------------------
    const templateProps = {
      thingTypeName,
      thingGroupName,
      devicePolicyName: dependencies.iot.policies.device.policyName,
      deviceConfiguration: { topicRoot: names.topicRoot },
    };
    this.provisioningTemplate = { templateName: names.provisioningTemplate, body: deviceProvisioningTemplate(templateProps) };
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
      // The same template as `provisioningTemplate`, naming the resources through Terraform's references.
      templateBody: JSON.stringify(
        deviceProvisioningTemplate({ ...templateProps, thingTypeName: thingType.name, thingGroupName: thingGroup.name, devicePolicyName: iot.device_policy_name }),
      ),
      // IAM is eventually consistent: IoT must be able to assume the role and call the hook at once.
      dependsOn: [registration, invokeHook],
    });

    // --- Over-the-air agent releases (npm run release:agent, docs/agent-releases.md) ---------------
    // A job targets the thing group above ("all devices", CONTINUOUS) or single things; IoT swaps
    // the job document's presigned-URL placeholder for a URL signed with the presign role.
    const releases = new ReleaseBucket(this, "agent-release-bucket", { bucketName: names.agentReleaseBucket(account.accountId) });
    const presign = new IotJobPresignRole(this, "agent-release-presign-role", {
      roleName: names.agentReleasePresignRole,
      account,
      jobIdPattern: `${AGENT_RELEASE_JOB_PREFIX}*`,
      objectArns: [account.s3Arn(names.agentReleaseBucket(account.accountId), `${AGENT_RELEASE_KEY_PREFIX}*`)],
    });

    this.exportOutputs({
      serial_table_name: serials.tableName,
      serial_table_arn: serials.tableArn,
      provisioning_template_name: template.name,
      claim_certificate_secrets: Fn.jsonencode(Object.fromEntries(claims.map(({ batch, claim }) => [batch.name, claim.secret.name]))),
      thing_group_name: thingGroup.name,
      agent_release_bucket_name: releases.bucketName,
      agent_release_presign_role_arn: presign.roleArn,
    });
  }
}
