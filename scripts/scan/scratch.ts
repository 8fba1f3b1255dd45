/**
 * The scan's own copy of the synthesized stacks: checkov must never read (or be worked around in)
 * `cdktf.out` itself.
 *
 * checkov 3's terraform_json parser hands every entry of the `terraform` block to `hclify`, which
 * accepts only objects, so cdktf's string `terraform.required_version` makes it drop the whole file
 * as a parsing error and then exit 0 with zero checks (bridgecrewio/checkov#7454, open;
 * checkov/terraform_json/parser.py `handle_block_type`). No checkov check reads `required_version`,
 * so the copy leaves out every non-object entry of the `terraform` block and says which.
 *
 * The copy also leaves out `moved` blocks: they only rename state entries, so no check reads them,
 * but checkov 3 names a resource after the `from` address of a moved block that points at it, so a
 * finding would carry an address the stack no longer has.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceTypes } from "./checkov-report";

export interface PreparedStack {
  readonly stack: string;
  /** `terraform.<key>` entries left out of the copy. */
  readonly removed: readonly string[];
}

type TerraformJson = { terraform?: Record<string, unknown>; resource?: Record<string, Record<string, unknown>>; moved?: unknown };

/** Returns a copy of a stack's `cdk.tf.json` checkov can parse, and the keys it left out. */
export function withoutScalarTerraformSettings(document: TerraformJson): { document: TerraformJson; removed: string[] } {
  const removed: string[] = [];
  if (!document.terraform) return { document, removed };
  const terraform: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(document.terraform)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) terraform[key] = value;
    else removed.push(key);
  }
  return { document: { ...document, terraform }, removed };
}

/** Resource name → types, for resolving checkov's `resource.<name>` addresses. */
export function resourceTypesOf(document: TerraformJson): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const [type, resources] of Object.entries(document.resource ?? {})) {
    for (const name of Object.keys(resources)) {
      if (name === "//") continue;
      names.set(name, [...(names.get(name) ?? []), type]);
    }
  }
  return names;
}

/**
 * Writes `<scratch>/<stack>/cdk.tf.json` for every stack, from `<stacksDir>/<stack>/cdk.tf.json`.
 */
export function prepareScratchCopy(
  stacksDir: string,
  stacks: readonly string[],
  scratchDir: string,
): { prepared: PreparedStack[]; types: ResourceTypes } {
  const prepared: PreparedStack[] = [];
  const types = new Map<string, Map<string, string[]>>();
  for (const stack of stacks) {
    const original = JSON.parse(readFileSync(join(stacksDir, stack, "cdk.tf.json"), "utf8")) as TerraformJson;
    const { moved: _stateRenamesOnly, ...checked } = original;
    const { document, removed } = withoutScalarTerraformSettings(checked);
    mkdirSync(join(scratchDir, stack), { recursive: true });
    writeFileSync(join(scratchDir, stack, "cdk.tf.json"), JSON.stringify(document, null, 2));
    prepared.push({ stack, removed });
    types.set(stack, resourceTypesOf(original));
  }
  return { prepared, types };
}
