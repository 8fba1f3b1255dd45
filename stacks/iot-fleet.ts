import { Fn } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { claimPolicyDocument, type IotPolicyDescription } from "../contracts/iot-policies";
import { AGENT_RELEASE_KEY_PREFIX, agentReleaseJobPrefix } from "../contracts/agent-release";
import type { deviceProvisioningTemplate } from "../contracts/provisioning-template";
import { SERIAL_TABLE_KEY } from "../contracts/serial-registry";
import { AwsAccount } from "../modules/aws-account";
import { ClaimCertificate } from "../modules/claim-certificate";
import { IotJobPresignRole } from "../modules/iot-job-presign-role";
import { ProjectIotPolicy } from "../modules/iot-policy";
import { FleetProvisioning } from "./constructs/fleet-provisioning";
import { ProvisioningHook } from "./constructs/provisioning-hook";
import { ProjectStack } from "./project-stack";
import { ReleaseBucket } from "../modules/release-bucket";
import { ProjectTable, type TableKeySchema } from "../modules/project-table";
import type { IotStack } from "./iot";
import type { RolesStack } from "./roles";

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

    // --- Fleet provisioning: the pre-provisioning hook, then the template ------------------------
    const hook = new ProvisioningHook(this, "hook", {
      names,
      account,
      serials,
      activeClaimCertificatesJson: Fn.jsonencode(
        claims.filter(({ batch }) => batch.active).map(({ batch, claim }) => ({ batch: batch.name, certificateId: claim.certificateId })),
      ),
      logRetentionDays: config.logRetentionDays,
    });
    this.moveIntoWrapper(hook);
    const fleet = new FleetProvisioning(this, "fleet-provisioning", {
      names,
      account,
      hook,
      devicePolicy: { name: dependencies.iot.policies.device.policyName, reference: iot.device_policy_name },
    });
    this.moveIntoWrapper(fleet);
    this.provisioningTemplate = { templateName: names.provisioningTemplate, body: fleet.template };

    // --- Over-the-air agent releases (npm run release:agent, docs/agent-releases.md) ---------------
    // A job targets the devices' thing group (fleet provisioning puts every device in it; CONTINUOUS) or single things; IoT swaps
    // the job document's presigned-URL placeholder for a URL signed with the presign role.
    const releases = new ReleaseBucket(this, "agent-release-bucket", { bucketName: names.agentReleaseBucket(account.accountId) });
    const presign = new IotJobPresignRole(this, "agent-release-presign-role", {
      roleName: names.agentReleasePresignRole,
      account,
      jobIdPattern: `${agentReleaseJobPrefix(names.prefix)}*`,
      objectArns: [account.s3Arn(names.agentReleaseBucket(account.accountId), `${AGENT_RELEASE_KEY_PREFIX}*`)],
    });

    this.exportOutputs({
      serial_table_name: serials.tableName,
      serial_table_arn: serials.tableArn,
      provisioning_template_name: fleet.templateName,
      claim_certificate_secrets: Fn.jsonencode(Object.fromEntries(claims.map(({ batch, claim }) => [batch.name, claim.secret.name]))),
      thing_group_name: fleet.thingGroupName,
      agent_release_bucket_name: releases.bucketName,
      agent_release_presign_role_arn: presign.roleArn,
    });
  }
}
