import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { packStatements, policyDocument, trustPolicy, type PolicyStatement, type TrustStatement } from "./iam-policy";

export interface ProjectRoleProps {
  /** Full role name; take it from the naming convention so policies elsewhere can scope to it. */
  readonly roleName: string;
  readonly description: string;
  /** Who may assume the role, and on what conditions. */
  readonly trust: TrustStatement;
  /** @default 3600 */
  readonly maxSessionDurationSeconds?: number;
}

/**
 * An IAM role whose permissions are added next to what they protect: `allow()` adds one inline
 * policy per purpose, so each grant stays small and named for its job.
 */
export class ProjectRole extends Construct {
  readonly role: IamRole;
  readonly roleName: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: ProjectRoleProps) {
    super(scope, id);
    if (props.roleName.length > 64) {
      throw new Error(`role name "${props.roleName}" is ${props.roleName.length} characters; IAM allows 64`);
    }
    this.role = new IamRole(this, "role", {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: trustPolicy(props.trust),
      maxSessionDuration: props.maxSessionDurationSeconds ?? 3600,
    });
    this.roleName = this.role.name;
    this.roleArn = this.role.arn;
  }

  /** Adds an inline policy named `<purpose>`. */
  allow(purpose: string, statements: readonly PolicyStatement[]): IamRolePolicy {
    return new IamRolePolicy(this, `policy-${purpose}`, {
      name: purpose,
      role: this.role.id,
      policy: policyDocument(statements),
    });
  }

  /** Attaches a managed policy: one of ours shared by several roles, or one AWS publishes for a job. */
  attachPolicy(id: string, policyArn: string): IamRolePolicyAttachment {
    return new IamRolePolicyAttachment(this, `attach-${id}`, { role: this.role.name, policyArn });
  }
}

export interface SharedPolicyProps {
  readonly policyName: string;
  readonly description: string;
  readonly statements: readonly PolicyStatement[];
}

/**
 * Customer managed policies for statements that may outgrow one policy: `<policyName>`, then
 * `<policyName>-2`, … each within IAM's 6,144-character limit (ids `<id>`, `<id>-2`, …).
 */
export function sharedPolicies(scope: Construct, id: string, props: SharedPolicyProps): SharedPolicy[] {
  return packStatements(props.statements).map(
    (statements, index) =>
      new SharedPolicy(scope, index === 0 ? id : `${id}-${index + 1}`, {
        ...props,
        policyName: index === 0 ? props.policyName : `${props.policyName}-${index + 1}`,
        statements,
      }),
  );
}

/** A customer managed policy, for permissions several roles share or that outgrow inline limits. */
export class SharedPolicy extends Construct {
  readonly policy: IamPolicy;
  readonly policyArn: string;

  constructor(scope: Construct, id: string, props: SharedPolicyProps) {
    super(scope, id);
    this.policy = new IamPolicy(this, "policy", {
      name: props.policyName,
      description: props.description,
      policy: policyDocument(props.statements),
    });
    this.policyArn = this.policy.arn;
  }
}
