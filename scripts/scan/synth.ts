/**
 * The synthesized stacks the scan reads: `cdktf.out` is reused while it is newer than every synth
 * input (the app, its config, contracts, modules, stacks, functions and the lock file) and was
 * synthesized for the environment `SMART_HOME_ENV` names (its state keys say which); otherwise
 * `npx cdktf synth` runs first.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironment } from "../../config";
import { stateKey, type StackId } from "../../contracts/stack-outputs";

/** Paths (files or folders, relative to the repo) whose change changes the synthesized JSON. */
export const SYNTH_INPUTS = ["main.ts", "cdktf.json", "package-lock.json", "config", "contracts", "modules", "stacks", "functions"] as const;

/** The newest modification time of the tracked and untracked (not ignored) synth inputs. */
function newestInputMtime(repoRoot: string): number {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", ...SYNTH_INPUTS], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  if (files.length === 0) throw new Error("git lists no synth input: is this the repo root?");
  return Math.max(...files.map((file) => (existsSync(join(repoRoot, file)) ? statSync(join(repoRoot, file)).mtimeMs : 0)));
}

type Manifest = { stacks: Record<string, { synthesizedStackPath: string }> };

/**
 * True when every stack with an S3 backend (all but the state stack, which bootstraps the bucket)
 * has the current environment's state key.
 */
function synthesizedForCurrentEnvironment(outDir: string, manifest: Manifest): boolean {
  const environment = loadEnvironment().name;
  const keys = Object.entries(manifest.stacks).flatMap(([stack, { synthesizedStackPath }]) => {
    const document = JSON.parse(readFileSync(join(outDir, synthesizedStackPath), "utf8")) as { terraform?: { backend?: { s3?: { key?: string } } } };
    const key = document.terraform?.backend?.s3?.key;
    return key === undefined ? [] : [{ key, expected: stateKey(environment, stack as StackId) }];
  });
  return keys.length > 0 && keys.every(({ key, expected }) => key === expected);
}

/** `npx cdktf synth` in the repo, as the README's synth command (without the telemetry check). */
export function runCdktfSynth(repoRoot: string): void {
  const result = spawnSync("npx", ["cdktf", "synth"], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    timeout: 10 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`npx cdktf synth failed:\n${result.stdout}${result.stderr}`);
}

/** Synthesizes unless `cdktf.out` is fresh; returns the stack names in `cdktf.out/manifest.json`. */
export function synthesizedStacks(
  repoRoot: string,
  log: (line: string) => void,
  synthesize: (repoRoot: string) => void = runCdktfSynth,
): { stacksDir: string; stacks: string[] } {
  const outDir = join(repoRoot, "cdktf.out");
  const manifest = join(outDir, "manifest.json");
  const readManifest = () => JSON.parse(readFileSync(manifest, "utf8")) as Manifest;
  if (existsSync(manifest) && statSync(manifest).mtimeMs > newestInputMtime(repoRoot) && synthesizedForCurrentEnvironment(outDir, readManifest())) {
    log("reusing cdktf.out (newer than every synth input, same environment)");
  } else {
    log("synthesizing (npx cdktf synth)");
    synthesize(repoRoot);
  }
  return { stacksDir: join(outDir, "stacks"), stacks: Object.keys(readManifest().stacks) };
}
