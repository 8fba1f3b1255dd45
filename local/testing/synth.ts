import { environments, parseEnvironment, type EnvironmentConfig, type EnvironmentInput } from "../../config";
import { Testing } from "cdktf";
import type { StackId } from "../../contracts/stack-outputs";
import type { TableKeySchema } from "../../modules/project-table";
import { buildStacks } from "../../stacks/app";
import { synthesizeStacks, type StackJson } from "../synthesized";

export type { StackJson } from "../synthesized";

/** The default environment with an account id, as a real deployment would have. */
export function testConfig(overrides: Partial<EnvironmentInput> = {}): EnvironmentConfig {
  return parseEnvironment({ ...environments.dev, accountId: "123456789012", ...overrides });
}

const cache = new Map<EnvironmentConfig, Record<StackId, StackJson>>();

/** Synthesizes every stack of one environment, once per config object. */
export function synthAll(config: EnvironmentConfig = defaultConfig): Record<StackId, StackJson> {
  const cached = cache.get(config);
  if (cached) return cached;
  const synthesized = synthesizeStacks(config);
  cache.set(config, synthesized);
  return synthesized;
}

export const defaultConfig = testConfig();

/** The tables a stack deploys, from its typed `tables` field (construction only, no synth). */
export function tablesOf(stackId: "iot" | "iot-fleet", config: EnvironmentConfig = defaultConfig): readonly TableKeySchema[] {
  return buildStacks(Testing.app(), config)[stackId].tables;
}

/** The resources of one type in a stack, by logical id. */
export function resources(stack: StackJson, type: string): Record<string, any> {
  return stack.resource?.[type] ?? {};
}

/** The only resource of a type in a stack; fails if there is not exactly one. */
export function onlyResource(stack: StackJson, type: string): any {
  const all = Object.values(resources(stack, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** Every IAM policy document in a stack (inline, managed, trust), parsed, with where it came from. */
export function policyDocuments(stack: StackJson): { where: string; document: any }[] {
  const found: { where: string; document: any }[] = [];
  for (const [type, attribute] of [
    ["aws_iam_role_policy", "policy"],
    ["aws_iam_policy", "policy"],
    ["aws_iam_role", "assume_role_policy"],
    ["aws_s3_bucket_policy", "policy"],
  ] as const) {
    for (const [id, resource] of Object.entries(resources(stack, type))) {
      found.push({ where: `${type}.${id}`, document: JSON.parse(resource[attribute]) });
    }
  }
  return found;
}

/** Statements of a policy document, as arrays whatever the JSON wrote. */
export function statements(document: any): { Sid?: string; Effect: string; Action: string[]; Resource: string[]; Condition?: any; Principal?: any }[] {
  return (Array.isArray(document.Statement) ? document.Statement : [document.Statement]).map((s: any) => ({
    ...s,
    Action: [s.Action].flat(),
    Resource: s.Resource === undefined ? [] : [s.Resource].flat(),
  }));
}
