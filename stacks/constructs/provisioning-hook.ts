import type { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";
import { provisioningHookVariables } from "../../contracts/function-environments";
import type { ProjectNames } from "../../contracts/names";
import { STRANDED_PROVISIONING_SECONDS } from "../../contracts/serial-registry";
import type { AwsAccount } from "../../modules/aws-account";
import type { ProjectTable } from "../../modules/project-table";
import { ProjectFunction } from "../functions";

export interface ProvisioningHookProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly serials: ProjectTable;
  /** JSON list of `{ batch, certificateId }` of the active batches' claim certificates. */
  readonly activeClaimCertificatesJson: string;
  readonly logRetentionDays: number;
}

/**
 * The pre-provisioning hook: the provisioning-hook function, which lets a device provision once
 * (an active batch's claim certificate, a registered serial), with what it may read and write, and
 * IoT's permission to call it.
 */
export class ProvisioningHook extends Construct {
  readonly functionArn: string;
  /** IoT's permission to invoke the hook; the template must wait for it (IAM is eventually consistent). */
  readonly invokePermission: LambdaPermission;

  constructor(scope: Construct, id: string, { names, account, serials, activeClaimCertificatesJson, logRetentionDays }: ProvisioningHookProps) {
    super(scope, id);
    const hook = new ProjectFunction(this, "provisioning-hook", {
      names,
      description: "Allows a device to provision once: active batch claim certificate, registered serial",
      environment: provisioningHookVariables({
        serialTable: serials.tableName,
        activeClaimCertificatesJson,
        thingNamePrefix: names.prefix,
        strandedAfterSeconds: STRANDED_PROVISIONING_SECONDS,
      }),
      logRetentionDays,
      // IoT waits 5 s for the answer; more memory means more CPU and a shorter cold start.
      memorySizeMiB: 512,
      timeoutSeconds: 4,
    });
    serials.grant(hook.role, ["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    // Whether a stranded serial's thing exists (a serial provisioned, but RegisterThing failed).
    hook.role.allow("describe-device-things", [
      { sid: "DescribeDeviceThings", actions: ["iot:DescribeThing"], resources: [account.arn("iot", `thing/${names.deviceThingNamePattern}`)] },
    ]);
    // IoT names no documented source ARN for hook invocations; the account scopes it.
    this.invokePermission = hook.grantInvoke("iot", { principal: "iot.amazonaws.com", sourceAccount: account.accountId });
    this.functionArn = hook.functionArn;
  }
}
