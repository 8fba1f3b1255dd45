/** One IAM policy statement, written in camelCase and rendered to AWS's JSON. */
export interface PolicyStatement {
  readonly sid: string;
  /** @default "Allow" */
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  /**
   * Required when `resources` is `["*"]`: why AWS allows nothing narrower for these actions.
   * Not rendered; it keeps every unscoped statement explained where it is written.
   */
  readonly unscopedBecause?: string;
}

export interface TrustStatement {
  readonly principal: { readonly Service: string } | { readonly Federated: string };
  /** @default "sts:AssumeRole" */
  readonly action?: string;
  readonly conditions?: PolicyStatement["conditions"];
}

/** Renders statements as a policy document; throws on a statement IAM would reject or we forbid. */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements.map(renderStatement) });
}

/** A role trust policy. */
export function trustPolicy(trust: TrustStatement): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: trust.principal,
        Action: trust.action ?? "sts:AssumeRole",
        ...(trust.conditions ? { Condition: trust.conditions } : {}),
      },
    ],
  });
}

function renderStatement(statement: PolicyStatement) {
  if (!/^[A-Za-z0-9]+$/.test(statement.sid)) {
    throw new Error(`policy statement sid "${statement.sid}" must be alphanumeric`);
  }
  if (statement.actions.length === 0 || statement.resources.length === 0) {
    throw new Error(`policy statement ${statement.sid} needs at least one action and one resource`);
  }
  const badAction = statement.actions.find((action) => !isScopedAction(action));
  if (badAction !== undefined) {
    throw new Error(
      `policy statement ${statement.sid}: action "${badAction}" must name a service and an action (service:Action or service:Verb*); "*" and "service:*" are never allowed`,
    );
  }
  if (statement.resources.includes("*") && (statement.effect ?? "Allow") === "Allow" && !statement.unscopedBecause) {
    throw new Error(`policy statement ${statement.sid} allows Resource "*"; say why in unscopedBecause or scope it`);
  }
  return {
    Sid: statement.sid,
    Effect: statement.effect ?? "Allow",
    Action: [...statement.actions],
    Resource: [...statement.resources],
    ...(statement.conditions ? { Condition: statement.conditions } : {}),
  };
}

/** IAM's limit on a customer managed policy document, in characters without white space (IAM quotas). */
export const MANAGED_POLICY_MAX_CHARACTERS = 6144;

/**
 * Splits statements, in order, into as few documents as fit IAM's managed-policy limit. Terraform
 * references count as 20 characters: longer than the 12-digit account id or "aws" they become.
 */
export function packStatements(statements: readonly PolicyStatement[], maxCharacters = MANAGED_POLICY_MAX_CHARACTERS): PolicyStatement[][] {
  const size = (group: readonly PolicyStatement[]) => policyDocument(group).replace(/\$\{TfToken\[[^\]]+\]\}/g, "x".repeat(20)).length;
  const groups: PolicyStatement[][] = [];
  for (const statement of statements) {
    if (size([statement]) > maxCharacters) throw new Error(`policy statement ${statement.sid} alone exceeds ${maxCharacters} characters`);
    const last = groups[groups.length - 1];
    if (last && size([...last, statement]) <= maxCharacters) last.push(statement);
    else groups.push([statement]);
  }
  return groups;
}

/** `s3:GetObject` and `ec2:Describe*` pass; `*` and `s3:*` do not. */
export function isScopedAction(action: string): boolean {
  return /^[a-z0-9-]+:[A-Za-z0-9]+\*?$/.test(action);
}
