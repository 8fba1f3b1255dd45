/**
 * Reads checkov's JSON output (`-o json`) into the few facts the scan judges: per stack, the checks
 * that passed, failed or were skipped, and the files checkov could not parse.
 *
 * Shapes, from checkov 3.3.30 run over cdktf output (`--framework terraform_json`):
 * - one framework gives one report object, several give an array of them; a run that found no file
 *   gives a bare summary without `check_type`;
 * - `file_path` is relative to the scanned directory (`/<stack>/cdk.tf.json`), `parsing_errors`
 *   holds absolute paths;
 * - graph checks (CKV2_*) name the resource `type.name`, but python resource checks name it
 *   `resource.name` (the block type, not the resource type), so the caller resolves the type from
 *   the synthesized JSON (see `ResourceTypes`).
 */
import { basename, dirname } from "node:path";
import * as z from "zod/mini";

const checkResult = z.object({
  check_id: z.string(),
  check_name: z.string(),
  file_path: z.string(),
  resource: z.string(),
});

const report = z.object({
  check_type: z.string(),
  results: z.object({
    passed_checks: z.array(checkResult),
    failed_checks: z.array(checkResult),
    skipped_checks: z.array(checkResult),
    parsing_errors: z.array(z.string()),
  }),
});

/** Resource names to their Terraform types, per stack: `types.get(stack)?.get(name)`. */
export type ResourceTypes = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

export interface Finding {
  readonly stack: string;
  /** Terraform address, `type.name`. */
  readonly address: string;
  readonly checkId: string;
  readonly checkName: string;
}

export interface StackResults {
  passed: number;
  /** Checks skipped by checkov itself (inline skips); the scan never asks for any. */
  skippedByCheckov: number;
  failed: Finding[];
}

export interface CheckovResults {
  /** Keyed by stack name (the folder holding its `cdk.tf.json`). */
  readonly stacks: ReadonlyMap<string, StackResults>;
  /** Stacks whose file checkov could not parse. */
  readonly parseErrors: readonly string[];
}

export class CheckovOutputError extends Error {}

/** The stack a result belongs to: the folder of its `cdk.tf.json`. */
function stackOf(filePath: string): string {
  return basename(dirname(filePath));
}

/** `resource.name` (python checks) → `type.name`, looked up in the stack's synthesized resources. */
export function resolveAddress(stack: string, resource: string, types: ResourceTypes): string {
  const [block, ...rest] = resource.split(".");
  if (block !== "resource" || rest.length === 0) return resource;
  const name = rest.join(".");
  const candidates = types.get(stack)?.get(name) ?? [];
  if (candidates.length !== 1) {
    throw new CheckovOutputError(
      `checkov reported "${resource}" in stack ${stack}: ${candidates.length === 0 ? "no" : "more than one"} resource of that name in its cdk.tf.json (${candidates.join(", ")})`,
    );
  }
  return `${candidates[0]}.${name}`;
}

/** Parses checkov's stdout; bad output is an error, never an empty result. */
export function parseCheckovOutput(stdout: string, types: ResourceTypes): CheckovResults {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new CheckovOutputError(`checkov did not print JSON: ${stdout.trim().slice(0, 300) || "(nothing)"}`);
  }
  const reports = (Array.isArray(json) ? json : [json]).filter(
    (entry): entry is { check_type: unknown } => typeof entry === "object" && entry !== null && "check_type" in entry,
  );
  const terraformJson = reports.filter((entry) => entry.check_type === "terraform_json");
  if (terraformJson.length !== 1) {
    throw new CheckovOutputError(`expected one terraform_json report from checkov, got ${terraformJson.length} (no file scanned?)`);
  }
  const parsed = report.safeParse(terraformJson[0]);
  if (!parsed.success) throw new CheckovOutputError(`unexpected checkov report shape: ${z.prettifyError(parsed.error)}`);
  const { results } = parsed.data;

  const stacks = new Map<string, StackResults>();
  const stackResults = (stack: string) => {
    let entry = stacks.get(stack);
    if (!entry) stacks.set(stack, (entry = { passed: 0, skippedByCheckov: 0, failed: [] }));
    return entry;
  };
  for (const check of results.passed_checks) stackResults(stackOf(check.file_path)).passed += 1;
  for (const check of results.skipped_checks) stackResults(stackOf(check.file_path)).skippedByCheckov += 1;
  for (const check of results.failed_checks) {
    const stack = stackOf(check.file_path);
    stackResults(stack).failed.push({
      stack,
      address: resolveAddress(stack, check.resource, types),
      checkId: check.check_id,
      checkName: check.check_name,
    });
  }
  return { stacks, parseErrors: results.parsing_errors.map(stackOf) };
}
