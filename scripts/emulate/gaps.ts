import type { StackId } from "../../contracts/stack-outputs";

/**
 * The one list of what `npm run emulate` leaves out, and why: moto server gaps measured against
 * moto 5.2.5 (scripts/emulate/requirements.txt) and the real aws provider. A stack is applied whole
 * or not at all (Terraform cannot drop one resource of a configuration through an override file
 * without breaking the references to it), so each entry names the stack and the resources that
 * keep it out. Everything not listed here is applied, re-planned and destroyed.
 * Measured 2026-11-28 (docs/terraform-proof.md).
 */
export const LEFT_OUT: Readonly<Partial<Record<StackId, { readonly blockedBy: string; readonly why: string }>>> = {
  state: {
    blockedBy: "aws_s3_bucket",
    why: "its tags go through S3 Control (TagResource at <account>.s3-control.<region>.amazonaws.com), an account-prefixed host that does not resolve to the local moto server",
  },
  connect: { blockedBy: "aws_ec2_instance_connect_endpoint", why: "moto has no EC2 Instance Connect Endpoint API" },
  iot: { blockedBy: "aws_iot_policy, aws_iot_topic_rule", why: "moto answers IoT ListTagsForResource with 500, and the provider retries until it times out" },
  "iot-fleet": {
    blockedBy: "aws_iot_provisioning_template, aws_iot_policy, aws_iot_thing_type, aws_iot_thing_group",
    why: "moto answers CreateProvisioningTemplate and IoT ListTagsForResource with 500",
  },
};

/**
 * Attributes moto accepts but never stores or returns: in an applied stack, the re-plan would show
 * them as a change every time. The emulate override adds them to the resource's
 * `lifecycle.ignore_changes` (override files merge lifecycle argument by argument), so the re-plan
 * still catches a perpetual diff on every other attribute.
 */
export const IGNORED_ATTRIBUTES: Readonly<Record<string, { readonly attributes: readonly string[]; readonly why: string }>> = {
  aws_lambda_function: { attributes: ["logging_config"], why: "moto neither stores nor returns a function's LoggingConfig" },
};

/**
 * Resource types whose delete moto cannot answer: before a stack is destroyed, `terraform state rm`
 * forgets them (nothing is deleted in moto), so the destroy of everything else is still proven.
 */
export const FORGOTTEN_BEFORE_DESTROY: Readonly<Record<string, string>> = {
  aws_api_gateway_account:
    "on delete the provider resets the account's CloudWatch role with a PATCH replace /cloudwatchRoleArn without a value, which moto answers with 500, and the provider retries for many minutes",
};

/** The closing summary: what was left out, from the lists above. */
export function leftOutSummary(): string {
  const stacks = Object.entries(LEFT_OUT).map(([id, gap]) => `stack ${id} (${gap?.blockedBy}: ${gap?.why})`);
  const attributes = Object.entries(IGNORED_ATTRIBUTES).map(([type, gap]) => `re-plan of ${type}.${gap.attributes.join(", ")} (${gap.why})`);
  const destroys = Object.entries(FORGOTTEN_BEFORE_DESTROY).map(([type, why]) => `destroy of ${type} (${why})`);
  const all = [...stacks, ...attributes, ...destroys];
  return all.length === 0 ? "nothing left out" : `left out (moto gaps, scripts/emulate/gaps.ts): ${all.join("; ")}`;
}
