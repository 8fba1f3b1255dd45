/**
 * `npm run validate`: every stack, synthesized into a scratch directory, through
 * `terraform init -backend=false` and `terraform validate -json` with the real hashicorp/aws
 * provider (and hashicorp/null where a stack uses it). One line per stack, warnings listed,
 * exit 1 on any error.
 *
 * Providers come from scripts/lib/terraform-providers.ts: the shared mirror's builds where it sits
 * beside the repo (newer than the versions the cdktf bindings pin, requested through an override
 * file, and the output says so), else the public registry with the pinned versions. It never skips.
 */
import { rmSync } from "node:fs";
import { stackIds } from "../contracts/stack-outputs";
import { terraformProviders } from "./lib/terraform-providers";
import { checkTerraformVersion, providerVersionOverride, runTerraform, synthesizeToScratch, writeOverride } from "./lib/terraform-scratch";

interface Diagnostic {
  severity: "error" | "warning";
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
  address?: string;
}

async function main(): Promise<number> {
  const started = Date.now();
  const scratch = synthesizeToScratch("smart-home-validate");
  const providers = terraformProviders();
  const env = { TF_CLI_CONFIG_FILE: providers.cliConfigFile };
  const terraformVersion = checkTerraformVersion(scratch.requiredVersion, env);
  console.log(`terraform ${terraformVersion}; ${providers.source}`);
  console.log(`scratch copy: ${scratch.dir} (an override file requests aws ${providers.versions.aws}, null ${providers.versions.null})`);

  let failed = 0;
  let warnings = 0;
  for (const id of stackIds) {
    const dir = scratch.stacks[id];
    writeOverride(dir, "provider_versions", providerVersionOverride(dir, providers.versions));
    const init = await runTerraform(["init", "-backend=false", "-no-color"], dir, env);
    if (init.code !== 0) {
      failed++;
      console.log(`${id.padEnd(10)} FAILED  terraform init exited ${init.code}`);
      console.log(indent(init.stderr || init.stdout));
      continue;
    }
    const validate = await runTerraform(["validate", "-json", "-no-color"], dir, env);
    let result: { valid: boolean; error_count: number; warning_count: number; diagnostics: Diagnostic[] };
    try {
      result = JSON.parse(validate.stdout);
    } catch {
      failed++;
      console.log(`${id.padEnd(10)} FAILED  terraform validate exited ${validate.code} without JSON`);
      console.log(indent(validate.stderr));
      continue;
    }
    if (!result.valid || validate.code !== 0) failed++;
    warnings += result.warning_count;
    const verdict = result.valid ? "valid " : "INVALID";
    console.log(`${id.padEnd(10)} ${verdict}  ${result.error_count} errors, ${result.warning_count} warnings (init ${init.seconds.toFixed(1)} s, validate ${validate.seconds.toFixed(1)} s)`);
    for (const diagnostic of result.diagnostics) console.log(indent(describe(diagnostic)));
  }
  if (failed === 0) rmSync(scratch.dir, { recursive: true, force: true });
  else console.log(`scratch copy kept for inspection: ${scratch.dir}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`${stackIds.length - failed} of ${stackIds.length} stacks valid, ${warnings} warnings, in ${seconds} s`);
  return failed === 0 ? 0 : 1;
}

function describe(d: Diagnostic): string {
  const where = d.range ? ` (${d.range.filename}:${d.range.start.line}${d.address ? `, ${d.address}` : ""})` : d.address ? ` (${d.address})` : "";
  return `${d.severity}: ${d.summary}${where}${d.detail ? `\n  ${d.detail.replace(/\n/g, "\n  ")}` : ""}`;
}

function indent(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`validate: ${error.message}`);
    process.exit(2);
  },
);
