/**
 * `npm run emulate`: apply every stack outside the measured moto gaps (scripts/emulate/gaps.ts)
 * against moto server with the real aws provider, in the design document's order; re-plan each
 * (`terraform plan -detailed-exitcode` must show no changes); read back through the AWS SDK what
 * users rely on; then destroy in reverse order, where `ecr` must refuse because of
 * `prevent_destroy`. The synthesized stacks get override files only. Exit 1 on any finding; the
 * last line names what was left out.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { stackIds, type StackId } from "../contracts/stack-outputs";
import { FORGOTTEN_BEFORE_DESTROY, leftOutSummary } from "./emulate/gaps";
import { ensureMotoVenv, startMoto } from "./emulate/moto";
import { emulateOverride, writeLeftOutStates } from "./emulate/overrides";
import { readBack } from "./emulate/read-back";
import { terraformProviders } from "./lib/terraform-providers";
import { checkTerraformVersion, runTerraform, stackJson, synthesizeToScratch, writeOverride, type TerraformResult } from "./lib/terraform-scratch";

/** The stack whose destroy must be refused, and the error Terraform gives for `prevent_destroy`. */
const PROTECTED_STACK: StackId = "ecr";
const PREVENT_DESTROY_ERROR = "Instance cannot be destroyed";

async function main(): Promise<number> {
  const started = Date.now();
  const scratch = synthesizeToScratch("smart-home-emulate");
  const providers = terraformProviders();
  const env = { TF_CLI_CONFIG_FILE: providers.cliConfigFile };
  const terraformVersion = checkTerraformVersion(scratch.requiredVersion, env);
  console.log(`terraform ${terraformVersion}; ${providers.source}`);
  const motoServer = ensureMotoVenv();
  const moto = await startMoto(motoServer);
  console.log(`moto server at ${moto.endpoint}; scratch copy ${scratch.dir}`);

  const findings: string[] = [];
  const applied: StackId[] = [];
  try {
    const stateDir = join(scratch.dir, "state");
    const leftOut = writeLeftOutStates(stateDir, terraformVersion);
    const toApply = stackIds.filter((id) => !leftOut.has(id));
    for (const id of toApply) {
      const dir = scratch.stacks[id];
      writeOverride(dir, "emulate", emulateOverride({ stackDir: dir, stackId: id, motoEndpoint: moto.endpoint, stateDir, providerVersions: providers.versions, leftOut }));
      const init = await step(id, "init", ["init", "-no-color", "-input=false"], dir, env);
      if (init.code !== 0) {
        findings.push(`${id}: init failed`);
        continue;
      }
      const apply = await step(id, "apply", ["apply", "-no-color", "-auto-approve", "-input=false"], dir, env);
      if (apply.code !== 0) {
        findings.push(`${id}: apply failed`);
        continue;
      }
      applied.push(id);
      const plan = await step(id, "re-plan", ["plan", "-no-color", "-input=false", "-detailed-exitcode"], dir, env, [0]);
      if (plan.code !== 0) findings.push(`${id}: the re-plan ${plan.code === 2 ? "shows changes (a perpetual diff)" : "failed"}`);
      const outputs = await runTerraform(["output", "-json"], dir, env);
      const checks = await readBack(stackJson(dir), parseOutputs(outputs.stdout), moto.endpoint).catch((error: Error) => [{ what: "read-back", ok: false, detail: error.message }]);
      for (const check of checks) console.log(`  ${id.padEnd(10)} read-back ${check.ok ? "ok  " : "FAIL"} ${check.what}${check.ok ? "" : `: ${check.detail}`}`);
      findings.push(...checks.filter((check) => !check.ok).map((check) => `${id}: read-back ${check.what}: ${check.detail}`));
    }

    for (const id of [...applied].reverse()) {
      const dir = scratch.stacks[id];
      if (id === PROTECTED_STACK) {
        const refused = await step(id, "destroy (must refuse)", ["destroy", "-no-color", "-auto-approve", "-input=false"], dir, env, [1], true);
        if (refused.code === 0) findings.push(`${id}: destroy succeeded, but prevent_destroy should have refused it`);
        else if (!refused.stderr.includes(PREVENT_DESTROY_ERROR)) findings.push(`${id}: destroy failed, but not because of prevent_destroy`);
        else console.log(`  ${id.padEnd(10)} destroy refused: prevent_destroy (as required)`);
        continue;
      }
      const listed = await runTerraform(["state", "list"], dir, env);
      const forget = listed.stdout.split("\n").filter((address) => Object.hasOwn(FORGOTTEN_BEFORE_DESTROY, address.split(".")[0] ?? ""));
      if (forget.length > 0) await step(id, `state rm ${forget.length} (gap)`, ["state", "rm", ...forget], dir, env);
      // The re-plan just refreshed this state; refreshing again would only cost time.
      const destroy = await step(id, "destroy", ["destroy", "-no-color", "-auto-approve", "-input=false", "-refresh=false"], dir, env);
      if (destroy.code !== 0) findings.push(`${id}: destroy failed`);
    }
  } finally {
    await moto.stop();
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (findings.length === 0) rmSync(scratch.dir, { recursive: true, force: true });
  else console.log(`findings:\n${findings.map((finding) => `  - ${finding}`).join("\n")}\nscratch copy kept for inspection: ${scratch.dir}`);
  const verdict = findings.length === 0 ? "emulate passed" : `emulate FAILED (${findings.length} findings)`;
  const destroyed = applied.filter((id) => id !== PROTECTED_STACK);
  const protectedNote = applied.includes(PROTECTED_STACK) ? `, ${PROTECTED_STACK} kept by prevent_destroy` : "";
  console.log(`${verdict} in ${seconds} s: applied and re-planned ${applied.join(", ") || "nothing"}, destroyed ${destroyed.join(", ") || "nothing"}${protectedNote}; ${leftOutSummary()}`);
  return findings.length === 0 ? 0 : 1;
}

/** Runs one terraform step, prints one line, and the output when the exit code is not expected. */
async function step(id: StackId, what: string, args: string[], dir: string, env: Record<string, string>, expected = [0], quiet = false): Promise<TerraformResult> {
  const result = await runTerraform(args, dir, env);
  const ok = expected.includes(result.code);
  console.log(`  ${id.padEnd(10)} ${what.padEnd(22)} ${ok ? "ok    " : "FAILED"} exit ${result.code}, ${result.seconds.toFixed(1)} s`);
  if (!ok || (!quiet && result.code !== 0)) console.log(tail(`${result.stdout}\n${result.stderr}`, 40));
  return result;
}

function parseOutputs(json: string): Record<string, string> {
  const parsed = JSON.parse(json || "{}") as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.entries(parsed).map(([name, output]) => [name, typeof output.value === "string" ? output.value : JSON.stringify(output.value)]));
}

function tail(text: string, lines: number): string {
  return text
    .trim()
    .split("\n")
    .slice(-lines)
    .map((line) => `      ${line}`)
    .join("\n");
}

// Ctrl-C or a CI timeout: exit normally, so moto is stopped (scripts/emulate/moto.ts).
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`emulate: ${error.stack ?? error.message}`);
    process.exit(2);
  },
);
