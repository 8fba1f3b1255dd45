import { Testing } from "cdktf";
import type { EnvironmentConfig } from "../config";
import type { StackId } from "../contracts/stack-outputs";
import { buildStacks, type BuildStacksOptions } from "../stacks/app";

/** A synthesized stack: Terraform JSON, with cdktf's "//" metadata removed. */
export type StackJson = {
  terraform: Record<string, any>;
  provider?: Record<string, any>;
  resource?: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  output?: Record<string, { value: string; description?: string }>;
};

/** Every stack of an environment, synthesized in memory: what `cdktf synth` writes, without files. */
export function synthesizeStacks(config: EnvironmentConfig, options: BuildStacksOptions = {}): Record<StackId, StackJson> {
  return synthesizeApp(config, options).json;
}

/** The stacks themselves (their typed public fields) and their synthesized JSON. */
export function synthesizeApp(config: EnvironmentConfig, options: BuildStacksOptions = {}) {
  const stacks = buildStacks(Testing.app(), config, options);
  const json = Object.fromEntries(Object.entries(stacks).map(([id, stack]) => [id, JSON.parse(Testing.synth(stack)) as StackJson])) as Record<StackId, StackJson>;
  return { stacks, json };
}

/** Values the local platform gives what Terraform would only know at apply. */
export interface LocalAccount {
  readonly accountId: string;
  readonly region: string;
  /** Base URL of the local SQS, which queue URLs point at. */
  readonly sqsEndpoint: string;
}

/**
 * Resolves the Terraform references in a synthesized string as the local platform's resources
 * would fill them: partition and account, names and ARNs of resources in the same stack, and other
 * stacks' outputs read through remote state. `$${` (a literal `${`) is unescaped.
 */
export function resolveReferences(text: string, stackId: StackId, stacks: Record<StackId, StackJson>, account: LocalAccount): string {
  const resolved = text.replace(/(?<!\$)\$\{([^}]+)\}/g, (_match, reference: string) => resolveOne(reference, stackId, stacks, account));
  return resolved.replace(/\$\$\{/g, "${");
}

function resolveOne(reference: string, stackId: StackId, stacks: Record<StackId, StackJson>, account: LocalAccount): string {
  if (/^data\.aws_partition\.[\w-]+\.partition$/.test(reference)) return "aws";
  if (/^data\.aws_caller_identity\.[\w-]+\.account_id$/.test(reference)) return account.accountId;
  const remote = /^data\.terraform_remote_state\.remote-state-([\w-]+)\.outputs\.(\w+)$/.exec(reference);
  if (remote) {
    const producer = remote[1] as StackId;
    const value = stacks[producer]?.output?.[remote[2] as string]?.value;
    if (value === undefined) throw new Error(`${stackId}: no output ${remote[2]} in stack ${producer}`);
    return resolveReferences(value, producer, stacks, account);
  }
  const resource = /^(aws_[a-z0-9_]+)\.([\w-]+)\.(\w+)$/.exec(reference);
  if (resource) {
    const [, type, id, attribute] = resource as unknown as [string, string, string, string];
    const definition = stacks[stackId].resource?.[type]?.[id];
    if (!definition) throw new Error(`${stackId}: no resource ${type}.${id}`);
    const name = definition.name ?? definition.function_name;
    if (attribute in definition && typeof definition[attribute] === "string") return resolveReferences(definition[attribute], stackId, stacks, account);
    if (attribute === "arn" && name) return localArn(type, name, account);
    if (attribute === "url" && type === "aws_sqs_queue") return localQueueUrl(account, name);
    if (attribute === "id" && name) return name;
  }
  throw new Error(`${stackId}: the local platform cannot resolve \${${reference}}`);
}

/** A queue's URL on the local SQS. */
export function localQueueUrl(account: LocalAccount, queueName: string): string {
  return `${account.sqsEndpoint}/${account.accountId}/${queueName}`;
}

function localArn(type: string, name: string, { accountId, region }: LocalAccount): string {
  const service = type.replace(/^aws_/, "").split("_")[0];
  const kinds: Record<string, string> = {
    aws_lambda_function: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    aws_sns_topic: `arn:aws:sns:${region}:${accountId}:${name}`,
    aws_dynamodb_table: `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
    aws_sqs_queue: `arn:aws:sqs:${region}:${accountId}:${name}`,
    aws_iot_topic_rule: `arn:aws:iot:${region}:${accountId}:rule/${name}`,
  };
  return kinds[type] ?? `arn:aws:${service}:${region}:${accountId}:${name}`;
}
