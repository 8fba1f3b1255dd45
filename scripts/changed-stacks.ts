/**
 * Which stacks a change touches, found by comparing two synthesized trees (`cdktf synth --output`),
 * not the source: a Lambda code change shows up as a new asset, a config change only in the stacks
 * that read that field, and a refactor that synthesizes the same JSON changes nothing.
 *
 *   tsx scripts/changed-stacks.ts --head cdktf.out --base cdktf.base [--git-base <sha>] [--github-output]
 *   tsx scripts/changed-stacks.ts --head cdktf.out --all [--github-output]
 *
 * Prints one JSON object (see `StackChanges`); with --github-output each field is also appended to
 * $GITHUB_OUTPUT as compact JSON, for `fromJSON()` in a workflow matrix. Exits 2 on bad usage.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { stackIds, type StackId } from "../contracts/stack-outputs";
import { withoutMetadata } from "./lib/synthesized-json";

/**
 * Stacks CI never applies: `state` keeps local state on an administrator's machine, and `roles`
 * holds the GitHub roles the deploy role is denied changing (stacks/roles.ts, NoSelfEscalation).
 */
export const ADMIN_ONLY_STACKS: readonly StackId[] = ["state", "roles"];

/** The stack that runs the controller image; its `controller_image_tag` variable takes the new tag. */
export const IMAGE_STACK: StackId = "ec2";

/**
 * What `controller/Dockerfile` builds from (issue #12 builds it from the repo root): a change here
 * means a new image, and so a redeploy of IMAGE_STACK even when its JSON did not change.
 */
export const CONTROLLER_IMAGE_INPUTS: readonly string[] = ["controller/", "contracts/", "package.json", "package-lock.json", "tsconfig.json"];

export interface StackChanges {
  /** Every stack whose synthesized configuration or assets differ, in the user's deployment order. */
  readonly changed: StackId[];
  /** Changed stacks with a remote backend: what a plan job can plan. */
  readonly planned: StackId[];
  /** Changed stacks with local state: nobody but an administrator can plan or apply them. */
  readonly unplannable: StackId[];
  /** Changed stacks CI may apply (changed minus ADMIN_ONLY_STACKS, plus IMAGE_STACK on a new image). */
  readonly deploy: StackId[];
  /** The part of `deploy` before IMAGE_STACK: applied before the image is built (ecr is among them). */
  readonly deployBeforeImage: StackId[];
  /** IMAGE_STACK and the stacks after it, applied with the new image tag; empty when IMAGE_STACK is not deployed. */
  readonly deployWithImage: StackId[];
  /** Changed stacks only an administrator applies. */
  readonly admin: StackId[];
  /** Stacks in the base tree that the head tree no longer has: destroying them is an administrator's call. */
  readonly removed: string[];
  /** Whether the controller image's inputs changed (only known with a git base). */
  readonly controllerImage: boolean;
}

/** A digest per stack directory: its cdk.tf.json without cdktf's "//" metadata, and every asset file. */
export function stackDigests(outDir: string): Map<string, string> {
  const stacksDir = join(outDir, "stacks");
  if (!existsSync(stacksDir)) throw new Error(`${outDir} holds no synthesized stacks (run cdktf synth --output ${outDir})`);
  const digests = new Map<string, string>();
  for (const stack of readdirSync(stacksDir).sort()) {
    const dir = join(stacksDir, stack);
    const hash = createHash("sha256");
    for (const file of listFiles(dir)) {
      const path = relative(dir, file);
      const content = path === "cdk.tf.json" ? canonicalJson(withoutMetadata(JSON.parse(readFileSync(file, "utf8")))) : readFileSync(file);
      hash.update(`${path}\0`).update(createHash("sha256").update(content).digest("hex")).update("\0");
    }
    digests.set(stack, hash.digest("hex"));
  }
  return digests;
}

/** Compares two trees; `base` undefined means everything is new (first deploy, or --all). */
export function compareTrees(headDir: string, baseDir: string | undefined, controllerImage = false): StackChanges {
  const head = stackDigests(headDir);
  const base = baseDir === undefined ? new Map<string, string>() : stackDigests(baseDir);
  const unknown = [...head.keys()].filter((stack) => !(stackIds as string[]).includes(stack));
  if (unknown.length > 0) throw new Error(`stacks not in contracts/stack-outputs.ts: ${unknown.join(", ")}`);
  const changed = stackIds.filter((stack) => head.has(stack) && head.get(stack) !== base.get(stack));
  const local = new Set(stackIds.filter((stack) => head.has(stack) && hasLocalBackend(headDir, stack)));
  const applicable = changed.filter((stack) => !ADMIN_ONLY_STACKS.includes(stack));
  const deploy = controllerImage && head.has(IMAGE_STACK) ? stackIds.filter((stack) => applicable.includes(stack) || stack === IMAGE_STACK) : applicable;
  const imageAt = deploy.indexOf(IMAGE_STACK);
  return {
    changed,
    planned: changed.filter((stack) => !local.has(stack)),
    unplannable: changed.filter((stack) => local.has(stack)),
    deploy,
    deployBeforeImage: imageAt < 0 ? deploy : deploy.slice(0, imageAt),
    deployWithImage: imageAt < 0 ? [] : deploy.slice(imageAt),
    admin: changed.filter((stack) => ADMIN_ONLY_STACKS.includes(stack)),
    removed: [...base.keys()].filter((stack) => !head.has(stack)),
    controllerImage,
  };
}

/** Whether any controller image input differs between two commits (`git diff --quiet`). */
export function controllerImageChanged(baseSha: string, headSha = "HEAD", cwd = process.cwd()): boolean {
  try {
    execFileSync("git", ["diff", "--quiet", baseSha, headSha, "--", ...CONTROLLER_IMAGE_INPUTS], { cwd, stdio: "ignore" });
    return false;
  } catch (error) {
    if ((error as { status?: number }).status === 1) return true;
    throw new Error(`git diff ${baseSha} ${headSha} failed: is ${baseSha} fetched?`);
  }
}

function hasLocalBackend(outDir: string, stack: string): boolean {
  const json = JSON.parse(readFileSync(join(outDir, "stacks", stack, "cdk.tf.json"), "utf8"));
  return json.terraform?.backend?.local !== undefined || json.terraform?.backend === undefined;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [path];
    });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

class UsageError extends Error {}

export function parseArgs(args: readonly string[]): { head: string; base?: string; gitBase?: string; githubOutput: boolean } {
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    if (at < 0) return undefined;
    const given = args[at + 1];
    if (!given || given.startsWith("--")) throw new UsageError(`${flag} takes a value`);
    return given;
  };
  const known = new Set(["--head", "--base", "--git-base", "--all", "--github-output"]);
  const unknown = args.filter((arg, i) => arg.startsWith("--") && !known.has(arg) && !["--head", "--base", "--git-base"].includes(args[i - 1] ?? ""));
  if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(", ")}`);
  const head = value("--head");
  const base = value("--base");
  const all = args.includes("--all");
  if (!head) throw new UsageError("--head <synthesized tree> is required");
  if ((base === undefined) === !all) throw new UsageError("give exactly one of --base <synthesized tree> and --all");
  const gitBase = value("--git-base");
  if (gitBase !== undefined && !/^[0-9a-f]{7,40}$/.test(gitBase)) throw new UsageError("--git-base takes a commit SHA");
  return { head, ...(base ? { base } : {}), ...(gitBase ? { gitBase } : {}), githubOutput: args.includes("--github-output") };
}

export function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`changed-stacks: ${error.message}`);
    return 2;
  }
  // Without a git base (first deploy, drift) every stack is new and so is the image.
  const image = options.gitBase === undefined ? options.base === undefined : controllerImageChanged(options.gitBase);
  const changes = compareTrees(options.head, options.base, image);
  console.log(JSON.stringify(changes, null, 2));
  if (options.githubOutput) {
    if (!env.GITHUB_OUTPUT) {
      console.error("changed-stacks: --github-output needs GITHUB_OUTPUT (set by GitHub Actions)");
      return 2;
    }
    appendFileSync(env.GITHUB_OUTPUT, Object.entries(changes).map(([key, value]) => `${key}=${JSON.stringify(value)}\n`).join(""));
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
