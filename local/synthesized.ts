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
