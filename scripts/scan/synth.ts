/**
 * The synthesized stacks the scan reads: `cdktf.out` is reused while it is newer than every synth
 * input (the app, its config, contracts, modules, stacks, functions and the lock file), otherwise
 * `npx cdktf synth` runs first.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

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

/** Synthesizes unless `cdktf.out` is fresh; returns the stack names in `cdktf.out/manifest.json`. */
export function synthesizedStacks(repoRoot: string, log: (line: string) => void): { stacksDir: string; stacks: string[] } {
  const manifest = join(repoRoot, "cdktf.out", "manifest.json");
  if (existsSync(manifest) && statSync(manifest).mtimeMs > newestInputMtime(repoRoot)) {
    log("reusing cdktf.out (newer than every synth input)");
  } else {
    log("synthesizing (npx cdktf synth)");
    const result = spawnSync("npx", ["cdktf", "synth"], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      timeout: 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`npx cdktf synth failed:\n${result.stdout}${result.stderr}`);
  }
  const stacks = Object.keys((JSON.parse(readFileSync(manifest, "utf8")) as { stacks: Record<string, unknown> }).stacks);
  return { stacksDir: join(repoRoot, "cdktf.out", "stacks"), stacks };
}
