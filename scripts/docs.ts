/**
 * npm run docs [-- --check]
 *
 * Writes the tables that restate the stacks (security groups, IoT policies and topic rules, IAM
 * roles, Lambdas, stack outputs) into docs/reference/*.md between markers, from the synthesized
 * stacks of the dev environment. With --check it writes nothing and exits 1 when a file is out of
 * date (test/docs-generated.test.ts runs the same comparison in CI).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { loadEnvironment } from "../config";
import type { StackId } from "../contracts/stack-outputs";
import { synthesizeStacks, type StackJson } from "../local/synthesized";
import { referenceDocuments, renderDocument } from "./docs/documents";

const root = join(__dirname, "..");

/** The stacks the docs describe: the dev environment, as a fresh clone synthesizes it. */
export function documentedStacks(): Record<StackId, StackJson> {
  return synthesizeStacks(loadEnvironment("dev"));
}

/** Each reference document with its content on disk and the content it should have. */
export function compareDocuments(stacks: Record<StackId, StackJson>, base = root): { file: string; current: string | undefined; expected: string }[] {
  return referenceDocuments.map((document) => {
    const path = join(base, document.file);
    const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    return { file: document.file, current, expected: renderDocument(document, current, stacks) };
  });
}

function main(): void {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  const results = compareDocuments(documentedStacks());
  const stale = results.filter((result) => result.current !== result.expected);
  if (values.check) {
    for (const result of stale) console.error(`${result.file} is out of date: run npm run docs`);
    console.log(`${results.length - stale.length} of ${results.length} reference documents up to date`);
    process.exitCode = stale.length === 0 ? 0 : 1;
    return;
  }
  for (const result of stale) {
    const path = join(root, result.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, result.expected);
    renameSync(`${path}.tmp`, path);
    console.log(`wrote ${result.file}`);
  }
  console.log(`${results.length} reference documents, ${stale.length} rewritten`);
}

if (require.main === module) main();
