import type { StackId } from "../../contracts/stack-outputs";
import type { StackJson } from "../../local/synthesized";
import { code, iotResource, markdownTable, readable, resourcesOf } from "./render";

type Stacks = Record<StackId, StackJson>;

const ports = (rule: any) => (rule.ip_protocol === "-1" ? "all" : rule.from_port === rule.to_port ? String(rule.from_port) : `${rule.from_port}-${rule.to_port}`);

/** Security groups: every rule, in and out, and the groups that allow nothing. */
export function securityGroupTable(stacks: Stacks): string {
  const rows: string[][] = [];
  for (const direction of ["ingress", "egress"] as const) {
    for (const { stack, resource } of resourcesOf(stacks, `aws_vpc_security_group_${direction}_rule`)) {
      const peer = resource.cidr_ipv4 ?? resource.cidr_ipv6 ?? resource.prefix_list_id ?? readable(resource.referenced_security_group_id, stack, stacks);
      rows.push([
        code(stack),
        readable(resource.security_group_id, stack, stacks),
        direction === "ingress" ? "in" : "out",
        `${resource.ip_protocol === "-1" ? "any" : resource.ip_protocol} ${ports(resource)}`,
        direction === "ingress" ? `from ${peer}` : `to ${peer}`,
        resource.description ?? "",
      ]);
    }
  }
  for (const { stack, resource } of resourcesOf(stacks, "aws_default_security_group")) {
    const rules = [...(resource.ingress ?? []), ...(resource.egress ?? [])];
    rows.push([code(stack), `default group of the VPC (${resource.tags?.Name ?? "default"})`, "in and out", rules.length === 0 ? "none" : `${rules.length} rules`, "", "closed: nothing may use it"]);
  }
  rows.sort((a, b) => a.join().localeCompare(b.join()));
  return [
    markdownTable(["stack", "security group", "direction", "protocol and port", "peer", "why"], rows),
    "",
    "Anything not in this table is denied: security groups allow only what a rule lists.",
  ].join("\n");
}

const IOT_ACTIONS_IN_WORDS: Record<string, string> = {
  "iot:Connect": "connect as",
  "iot:Publish": "publish to",
  "iot:Subscribe": "subscribe to",
  "iot:Receive": "receive from",
};

/** IoT policies: who may connect, publish, subscribe and receive, on which topics. */
export function iotPolicyTable(stacks: Stacks): string {
  const rows: string[][] = [];
  for (const { stack, resource } of resourcesOf(stacks, "aws_iot_policy")) {
    const document = JSON.parse(readable(resource.policy, stack, stacks));
    for (const statement of [document.Statement].flat()) {
      for (const action of [statement.Action].flat()) {
        rows.push([
          code(resource.name),
          `${statement.Effect === "Allow" ? "may" : "may not"} ${IOT_ACTIONS_IN_WORDS[action] ?? action}`,
          [statement.Resource].flat().map((arn: string) => code(iotResource(arn))).join(", "),
          statement.Condition ? code(JSON.stringify(statement.Condition)) : "",
        ]);
      }
    }
  }
  return markdownTable(["IoT policy", "may", "resources", "condition"], rows);
}

/** Topic rules: what each rule selects and where it sends it. */
export function topicRuleTable(stacks: Stacks): string {
  const actionKeys = ["sns", "lambda", "dynamodb", "dynamodbv2", "cloudwatch_logs", "sqs", "s3", "republish", "firehose", "kinesis", "http", "cloudwatch_metric"];
  const rows = resourcesOf(stacks, "aws_iot_topic_rule").map(({ stack, resource }) => {
    const actions = actionKeys.flatMap((key) =>
      [resource[key] ?? []].flat().map((action: any) => `${key}: ${readable(action.target_arn ?? action.function_arn ?? action.table_name ?? action.log_group_name ?? action.queue_url ?? action.topic ?? "", stack, stacks)}`),
    );
    const onError = Object.entries(resource.error_action ?? {}).map(([key, action]: [string, any]) => `${key}: ${readable(action.log_group_name ?? action.target_arn ?? "", stack, stacks)}`);
    return [code(resource.name), code(resource.sql), actions.join("; "), onError.join("; ")];
  });
  return markdownTable(["rule", "SQL", "actions", "on error"], rows.sort((a, b) => a[0]!.localeCompare(b[0]!)));
}

function trustedBy(document: any): string {
  return [document.Statement].flat().flatMap((statement: any) =>
    Object.entries(statement.Principal ?? {}).flatMap(([kind, value]) => [value].flat().map((principal) => `${kind === "Service" ? "" : `${kind} `}${principal}`)),
  ).join(", ");
}

/** IAM roles: who may assume each, and what each may do, statement by statement, in words. */
export function iamRoleTable(stacks: Stacks): string {
  const rows: string[][] = [];
  for (const { stack, id, resource: role } of resourcesOf(stacks, "aws_iam_role")) {
    const roleReference = new RegExp(`^\\$\\{aws_iam_role\\.${id.replace(/[$()*+.?[\\\]^{|}]/g, "\\$&")}\\.(name|id)\\}$`);
    const trust = JSON.parse(readable(role.assume_role_policy, stack, stacks));
    const permissions: string[] = [];
    for (const { resource: policy } of resourcesOf({ [stack]: stacks[stack] } as Stacks, "aws_iam_role_policy").filter(({ resource }) => roleReference.test(resource.role))) {
      for (const statement of [JSON.parse(readable(policy.policy, stack, stacks)).Statement].flat()) {
        const verb = statement.Effect === "Allow" ? "may" : "may not";
        permissions.push(`${verb} ${[statement.Action].flat().map(code).join(", ")} on ${[statement.Resource].flat().map(code).join(", ")}${statement.Condition ? " (with conditions)" : ""}`);
      }
    }
    for (const { resource: attachment } of resourcesOf({ [stack]: stacks[stack] } as Stacks, "aws_iam_role_policy_attachment").filter(({ resource }) => roleReference.test(resource.role))) {
      const policyArn = readable(attachment.policy_arn, stack, stacks);
      permissions.push(`managed policy ${code(policyArn.replace(/^arn:aws:iam::(aws|\{account\}):policy\//, ""))}`);
    }
    rows.push([code(stack), code(role.name), role.description ?? "", trustedBy(trust), permissions.join("<br>")]);
  }
  rows.sort((a, b) => a.join().localeCompare(b.join()));
  return markdownTable(["stack", "role", "for", "assumed by", "permissions"], rows);
}

/** Lambda functions: what invokes each, runtime, architecture, memory, timeout, log retention. */
export function lambdaTable(stacks: Stacks): string {
  const rows: string[][] = [];
  for (const { stack, id, resource: fn } of resourcesOf(stacks, "aws_lambda_function")) {
    const reference = `aws_lambda_function.${id}.`;
    const triggers: string[] = [];
    for (const { resource: permission } of resourcesOf({ [stack]: stacks[stack] } as Stacks, "aws_lambda_permission").filter(({ resource }) => String(resource.function_name).includes(reference))) {
      triggers.push(permission.source_arn ? `${permission.principal} (${readable(permission.source_arn, stack, stacks)})` : permission.principal);
    }
    for (const { resource: mapping } of resourcesOf({ [stack]: stacks[stack] } as Stacks, "aws_lambda_event_source_mapping").filter(({ resource }) => String(resource.function_name).includes(reference))) {
      triggers.push(`SQS queue ${readable(mapping.event_source_arn, stack, stacks)} (batches of ${mapping.batch_size ?? 10})`);
    }
    for (const { resource: subscription } of resourcesOf({ [stack]: stacks[stack] } as Stacks, "aws_sns_topic_subscription").filter(({ resource }) => String(resource.endpoint).includes(reference))) {
      triggers.push(`SNS topic ${readable(subscription.topic_arn, stack, stacks)}`);
    }
    const logGroup = Object.values(stacks[stack].resource?.aws_cloudwatch_log_group ?? {}).find((group: any) => group.name === `/aws/lambda/${fn.function_name}`) as any;
    rows.push([
      code(stack),
      code(fn.function_name),
      fn.description ?? "",
      triggers.sort().join("; "),
      `${fn.runtime} ${[fn.architectures ?? ["x86_64"]].flat().join(",")}`,
      `${fn.memory_size ?? 128} MB`,
      `${fn.timeout ?? 3} s`,
      logGroup ? `${logGroup.retention_in_days} days` : "never expires",
    ]);
  }
  rows.sort((a, b) => a.join().localeCompare(b.join()));
  return markdownTable(["stack", "function", "does", "invoked by", "runtime", "memory", "timeout", "logs kept"], rows);
}

/** Stack outputs: what each stack exports for later stacks and workflows. */
export function outputTable(stacks: Stacks): string {
  const rows = Object.entries(stacks).flatMap(([stack, json]) =>
    Object.entries(json.output ?? {})
      .filter(([name]) => !name.startsWith("cross-stack-output-"))
      .map(([name, output]: [string, any]) => [code(stack), code(name), output.description ?? "", output.sensitive ? "yes" : ""]),
  );
  return markdownTable(["stack", "output", "holds", "sensitive"], rows);
}
