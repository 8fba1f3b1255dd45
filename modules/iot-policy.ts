import { IotPolicy } from "@cdktf/provider-aws/lib/iot-policy";
import { Construct } from "constructs";
import type { IotPolicyDocument } from "../contracts/iot-policies";

/**
 * An AWS IoT policy from a document built in contracts/iot-policies.ts. The document's `${iot:…}`
 * policy variables are escaped so Terraform passes them to IoT as written.
 */
export class ProjectIotPolicy extends Construct {
  readonly policy: IotPolicy;
  readonly policyName: string;
  readonly policyArn: string;

  constructor(scope: Construct, id: string, props: { policyName: string; document: IotPolicyDocument }) {
    super(scope, id);
    this.policy = new IotPolicy(this, "policy", {
      name: props.policyName,
      policy: escapePolicyVariables(JSON.stringify(props.document)),
    });
    this.policyName = this.policy.name;
    this.policyArn = this.policy.arn;
  }
}

/** `${iot:…}` would be a Terraform interpolation; `$${iot:…}` is the literal text. */
export function escapePolicyVariables(json: string): string {
  return json.replace(/\$\{(iot|aws):/g, (_match, namespace: string) => `$\${${namespace}:`);
}
