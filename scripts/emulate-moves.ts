/**
 * `npm run emulate:moves -- <git revision>`: proves a refactoring only renames Terraform state.
 * First, for every stack, compares the two synthesized versions with the moves applied
 * (scripts/emulate/synth-moves.ts). Then applies every stack the emulation covers
 * (scripts/emulate/gaps.ts) as synthesized at the given revision, against moto, and plans the
 * working tree's stacks on that state. Each plan may only
 * move resources (`moved` blocks: https://developer.hashicorp.com/terraform/language/modules/develop/refactoring)
 * and read data sources: any create, update, replace or delete is a finding. Exit 1 on a finding;
 * the last line counts the moves per stack.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackIds, type StackId } from "../contracts/stack-outputs";
import { LEFT_OUT } from "./emulate/gaps";
import { ensureMotoVenv, startMoto } from "./emulate/moto";
import { compareAfterMoves } from "./emulate/synth-moves";
import { emulateOverride, writeLeftOutStates } from "./emulate/overrides";
import { terraformProviders } from "./lib/terraform-providers";
import { checkTerraformVersion, REPO_ROOT, runTerraform, stackJson, synthesizeToScratch, writeOverride } from "./lib/terraform-scratch";

interface ResourceChange {
  readonly address: string;
  readonly previous_address?: string;
  readonly mode: "managed" | "data";
  readonly change: { readonly actions: readonly string[] };
}

/** What a plan of the refactored stack does to the applied state: moves, and anything else (a finding). */
export function classifyPlan(resourceChanges: readonly ResourceChange[]): { moved: string[]; findings: string[] } {
  const moved: string[] = [];
  const findings: string[] = [];
  for (const change of resourceChanges) {
    const actions = change.change.actions.join(",");
    if (change.previous_address && change.previous_address !== change.address) moved.push(`${change.previous_address} → ${change.address}`);
    if (actions === "no-op" || (change.mode === "data" && actions === "read")) continue;
    findings.push(`${change.address}: ${actions}${change.previous_address ? ` (moved from ${change.previous_address})` : ""}`);
  }
  return { moved, findings };
}

async function main(revision: string | undefined): Promise<number> {
  if (!revision) throw new Error("usage: npm run emulate:moves -- <git revision the state was applied from>");
  const commit = execFileSync("git", ["rev-parse", "--verify", `${revision}^{commit}`], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  const work = mkdtempSync(join(tmpdir(), "smart-home-moves-"));
  const baseTree = join(work, "base");
  execFileSync("git", ["worktree", "add", "--detach", baseTree, commit], { cwd: REPO_ROOT, stdio: "ignore" });
  const findings: string[] = [];
  const moves: string[] = [];
  const synthesized = { moved: 0, codeUpdates: 0 };
  try {
    symlinkSync(join(REPO_ROOT, "node_modules"), join(baseTree, "node_modules"));
    const before = synthesizeToScratch("smart-home-moves-before", baseTree);
    const after = synthesizeToScratch("smart-home-moves-after");
    for (const id of stackIds) {
      const comparison = compareAfterMoves(stackJson(before.stacks[id]), stackJson(after.stacks[id]));
      console.log(`  ${id.padEnd(10)} synthesized: ${comparison.moved} moved blocks, ${comparison.differences.length} other differences${comparison.codeUpdates.length ? `; Lambda code updated in place: ${comparison.codeUpdates.join(", ")}` : ""}`);
      for (const difference of comparison.differences) console.log(`      DIFFERENT ${difference}`);
      findings.push(...comparison.differences.map((difference) => `${id} (synthesized): ${difference}`));
      synthesized.moved += comparison.moved;
      synthesized.codeUpdates += comparison.codeUpdates.length;
    }
    const providers = terraformProviders();
    const env = { TF_CLI_CONFIG_FILE: providers.cliConfigFile };
    const terraformVersion = checkTerraformVersion(before.requiredVersion, env);
    const moto = await startMoto(ensureMotoVenv());
    try {
      const stateDir = join(work, "state");
      const leftOut = writeLeftOutStates(stateDir, terraformVersion);
      const terraform = async (id: StackId, dir: string, args: string[]) => {
        const result = await runTerraform(args, dir, env);
        if (result.code !== 0) throw new Error(`${id}: terraform ${args[0]} failed:\n${result.stdout}\n${result.stderr}`);
        return result;
      };
      for (const id of stackIds.filter((stack) => !leftOut.has(stack))) {
        for (const dir of [before.stacks[id], after.stacks[id]]) {
          writeOverride(dir, "emulate", emulateOverride({ stackDir: dir, stackId: id, motoEndpoint: moto.endpoint, stateDir, providerVersions: providers.versions, leftOut }));
        }
        await terraform(id, before.stacks[id], ["init", "-no-color", "-input=false"]);
        await terraform(id, before.stacks[id], ["apply", "-no-color", "-auto-approve", "-input=false"]);
        await terraform(id, after.stacks[id], ["init", "-no-color", "-input=false"]);
        await terraform(id, after.stacks[id], ["plan", "-no-color", "-input=false", "-out=moves.plan"]);
        const shown = await terraform(id, after.stacks[id], ["show", "-json", "moves.plan"]);
        const plan = classifyPlan((JSON.parse(shown.stdout) as { resource_changes?: ResourceChange[] }).resource_changes ?? []);
        console.log(`  ${id.padEnd(10)} ${plan.moved.length} moved, ${plan.findings.length} other changes`);
        for (const move of plan.moved) console.log(`      moved ${move}`);
        for (const finding of plan.findings) console.log(`      CHANGE ${finding}`);
        moves.push(`${id} ${plan.moved.length}`);
        findings.push(...plan.findings.map((finding) => `${id}: ${finding}`));
      }
    } finally {
      await moto.stop();
    }
    rmSync(before.dir, { recursive: true, force: true });
    rmSync(after.dir, { recursive: true, force: true });
  } finally {
    execFileSync("git", ["worktree", "remove", "--force", baseTree], { cwd: REPO_ROOT, stdio: "ignore" });
    rmSync(work, { recursive: true, force: true });
  }
  const left = Object.keys(LEFT_OUT).join(", ");
  console.log(`${findings.length === 0 ? "emulate:moves passed" : `emulate:moves FAILED (${findings.length} changes besides moves)`} from ${commit.slice(0, 7)}: synthesized ${synthesized.moved} moved blocks over ${stackIds.length} stacks, ${synthesized.codeUpdates} Lambda code updates; applied on moto and planned, moves per stack ${moves.join(", ")}; not applied (moto gaps): ${left}`);
  return findings.length === 0 ? 0 : 1;
}

if (require.main === module) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main(process.argv[2]).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`emulate:moves: ${error.message}`);
      process.exit(2);
    },
  );
}
