/**
 * What `npm run validate` and `npm run emulate` share: synthesizing every stack into a scratch
 * directory (the repo's cdktf.out is never touched), refusing a Terraform older than the stacks'
 * `required_version`, writing override files, and running terraform as a child process.
 *
 * Override files (`*_override.tf.json`) are Terraform's own way to adjust a configuration without
 * editing it: a `required_providers` entry is merged provider by provider, a `backend` block
 * replaces the backend, and a provider or data block merges argument by argument with the block of
 * the same header (https://developer.hashicorp.com/terraform/language/files/override).
 */
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stackIds, type StackId } from "../../contracts/stack-outputs";

export const REPO_ROOT = resolve(__dirname, "..", "..");
/** The terraform binary: `TERRAFORM` or the one on PATH. */
export const TERRAFORM = process.env.TERRAFORM ?? "terraform";

export interface ScratchStacks {
  /** The scratch directory; `stacks/<id>/cdk.tf.json` below it, with the stacks' assets. */
  readonly dir: string;
  /** Working directory of each stack, in the user's deployment order. */
  readonly stacks: Record<StackId, string>;
  /** The synthesized `terraform.required_version` (the same for every stack). */
  readonly requiredVersion: string;
}

/**
 * Synthesizes every stack (`main.ts`, the config of `SMART_HOME_ENV`) into a fresh temp directory.
 * `root` is the checkout to synthesize (another revision's worktree, for a refactoring proof).
 */
export function synthesizeToScratch(prefix: string, root: string = REPO_ROOT): ScratchStacks {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  execFileSync(process.execPath, [require.resolve("tsx/cli"), join(root, "main.ts")], {
    cwd: root,
    env: { ...process.env, CDKTF_OUTDIR: dir, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const stacks = Object.fromEntries(stackIds.map((id) => [id, join(dir, "stacks", id)])) as Record<StackId, string>;
  const versions = new Set(stackIds.map((id) => stackJson(stacks[id]).terraform?.required_version as string | undefined));
  if (versions.size !== 1 || [...versions][0] === undefined) throw new Error(`the stacks disagree on terraform.required_version: ${[...versions].join(", ")}`);
  return { dir, stacks, requiredVersion: [...versions][0] as string };
}

/** The synthesized Terraform JSON of a stack directory. */
export function stackJson(stackDir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
}

/** Writes `<name>_override.tf.json` into a stack directory. */
export function writeOverride(stackDir: string, name: string, content: object): void {
  writeFileSync(join(stackDir, `${name}_override.tf.json`), `${JSON.stringify(content, null, 2)}\n`);
}

/**
 * `terraform.required_providers` asking for the versions we have, for the providers a stack uses
 * (the synthesized entry with only `version` changed).
 */
export function providerVersionOverride(stackDir: string, versions: Readonly<Record<string, string>>): object {
  const required: Record<string, unknown> = stackJson(stackDir).terraform?.required_providers ?? {};
  const names = Object.keys(required);
  const unknown = names.filter((name) => !(name in versions));
  if (unknown.length > 0) throw new Error(`${stackDir}: no provider version for ${unknown.join(", ")}`);
  return { terraform: { required_providers: Object.fromEntries(names.map((name) => [name, { ...(required[name] as object), version: versions[name] }])) } };
}

/**
 * Refuses a terraform older than the stacks need. Only `>= x.y.z` constraints are understood (what
 * stacks/project-stack.ts writes); anything else is an error rather than a silent pass.
 */
export function checkTerraformVersion(required: string, env: Readonly<Record<string, string>>): string {
  let installed: string;
  try {
    installed = JSON.parse(execFileSync(TERRAFORM, ["version", "-json"], { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env } })).terraform_version;
  } catch (error) {
    throw new Error(`cannot run ${TERRAFORM} (${(error as Error).message.split("\n")[0]}); install Terraform ${required} or set TERRAFORM=/path/to/terraform`);
  }
  const minimum = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(required.trim());
  if (!minimum) throw new Error(`cannot check terraform required_version "${required}": only ">= x.y.z" is understood`);
  const have = installed.split(/[.-]/).slice(0, 3).map(Number);
  const need = minimum.slice(1).map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > (need[i] ?? 0)) break;
    if ((have[i] ?? 0) < (need[i] ?? 0)) {
      throw new Error(`Terraform ${installed} is too old: the stacks require ${required} (S3 lock files need 1.11). Install a newer Terraform or set TERRAFORM=/path/to/terraform.`);
    }
  }
  return installed;
}

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * Runs terraform in a directory, with the providers' CLI configuration and no version check. A
 * command that outlives `timeoutSeconds` (a provider retrying an emulator's 500 for many minutes)
 * is stopped and reported as failed.
 */
export function runTerraform(args: string[], cwd: string, env: Readonly<Record<string, string>>, timeoutSeconds = 300): Promise<TerraformResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TERRAFORM, args, {
      cwd,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\nterraform ${args[0]} timed out after ${timeoutSeconds} s and was stopped\n`;
      child.kill("SIGTERM");
    }, timeoutSeconds * 1000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}
