/**
 * npx tsx scripts/cdktn-compare.ts [--workdir DIR] [--node PATH] [--report FILE]
 *
 * Proves the way from cdktf 0.21 (archived by HashiCorp) to its community fork CDK Terrain: copies
 * the repo into a scratch directory, swaps the packages (cdktf → cdktn, cdktf-cli → cdktn-cli,
 * @cdktf/provider-aws → @cdktn/provider-aws), rewrites the imports, synthesizes the app in both
 * trees and compares every stack's Terraform JSON after normalizing what legitimately differs
 * (cdktf's "//" metadata and the content hashes in asset paths). Needs the npm registry; writes
 * nothing into the repo. With --node (a Node.js >= 22.19 binary, which cdktn-cli requires) it also
 * runs `cdktn synth` through the fork's CLI and compares that output too. docs/cdktn.md has the
 * result and the manual steps.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";

/** The fork's packages, exact versions (cdktn 0.24 wants constructs >=10.6 <10.8). */
export const CDKTN_PACKAGES = {
  dependencies: { cdktn: "0.24.0", "@cdktn/provider-aws": "25.7.0", constructs: "10.6.0" },
  devDependencies: { "cdktn-cli": "0.24.0" },
  removed: ["cdktf", "cdktf-cli", "@cdktf/provider-aws"],
} as const;

const root = join(__dirname, "..");

/**
 * Rewrites one TypeScript source from cdktf to cdktn: only module specifiers (`from "…"`,
 * `import("…")`, `require("…")`), never other strings such as the `ManagedBy: "cdktf"` tag value.
 */
export function rewriteImports(source: string): string {
  const specifier = /((?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(["']))(cdktf|@cdktf\/provider-aws)((?:\/[^"']*)?\2)/g;
  return source.replace(specifier, (_match, head: string, _quote: string, name: string, tail: string) => `${head}${name === "cdktf" ? "cdktn" : "@cdktn/provider-aws"}${tail}`);
}

/**
 * Drops what differs by construction: cdktf's "//" metadata, asset content hashes in paths, and the
 * absolute path of the tree being synthesized (the state stack's local backend).
 */
export function normalize(value: unknown, tree = root): unknown {
  if (Array.isArray(value)) return value.map((item) => normalize(item, tree));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => key !== "//")
        .map(([key, inner]) => [key, normalize(inner, tree)]),
    );
  }
  if (typeof value === "string") return value.split(tree).join("<tree>").replace(/(assets\/[^/]+\/)[0-9A-F]{32,64}(\/)/gi, "$1<hash>$2");
  return value;
}

export interface Difference {
  readonly stack: string;
  readonly path: string;
  readonly cdktf: unknown;
  readonly cdktn: unknown;
}

/** Every leaf where two JSON documents differ, by dotted path. */
export function differences(stack: string, left: unknown, right: unknown, path = ""): Difference[] {
  if (JSON.stringify(left) === JSON.stringify(right)) return [];
  const isObject = (value: unknown) => value !== null && typeof value === "object";
  if (isObject(left) && isObject(right) && Array.isArray(left) === Array.isArray(right)) {
    const keys = new Set([...Object.keys(left as object), ...Object.keys(right as object)]);
    return [...keys].sort().flatMap((key) => differences(stack, (left as any)[key], (right as any)[key], path ? `${path}.${key}` : key));
  }
  return [{ stack, path, cdktf: left, cdktn: right }];
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(command, args, { cwd, env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
}

/** Synthesizes the app of `tree` into `outdir` the way `cdktf synth` does: the app command with CDKTF_OUTDIR. */
function synthesize(tree: string, outdir: string): Record<string, unknown> {
  run("npx", ["tsx", "main.ts"], tree, { CDKTF_OUTDIR: outdir });
  return readStacks(outdir);
}

function readStacks(outdir: string): Record<string, unknown> {
  const stacksDir = join(outdir, "stacks");
  return Object.fromEntries(readdirSync(stacksDir).sort().map((id) => [id, JSON.parse(readFileSync(join(stacksDir, id, "cdk.tf.json"), "utf8"))]));
}

/** Copies the repo's files (tracked and new, not ignored) into `scratch` and swaps it to cdktn. */
function prepareScratch(scratch: string): { rewritten: string[]; kept: string[] } {
  const files = run("git", ["ls-files", "--cached", "--others", "--exclude-standard"], root).split("\n").filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(root, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    cpSync(join(root, file), join(scratch, file));
  }
  const rewritten: string[] = [];
  for (const file of files.filter((name) => /\.(ts|js)$/.test(name) && existsSync(join(scratch, name)))) {
    const before = readFileSync(join(scratch, file), "utf8");
    const after = rewriteImports(before);
    if (after !== before) {
      writeFileSync(join(scratch, file), after);
      rewritten.push(file);
    }
  }
  const manifest = JSON.parse(readFileSync(join(scratch, "package.json"), "utf8"));
  for (const name of CDKTN_PACKAGES.removed) {
    delete manifest.dependencies?.[name];
    delete manifest.devDependencies?.[name];
  }
  Object.assign(manifest.dependencies, CDKTN_PACKAGES.dependencies);
  Object.assign(manifest.devDependencies, CDKTN_PACKAGES.devDependencies);
  // Other @cdktf/* bindings have no cdktn build yet: kept, and reported.
  const kept = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => name.startsWith("@cdktf/"));
  writeFileSync(join(scratch, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  run("rm", ["-f", "package-lock.json"], scratch);
  // Tests that list the repo's files use git: give the copy an index of its own.
  run("git", ["init", "-q"], scratch);
  run("git", ["add", "-A"], scratch);
  return { rewritten, kept };
}

function main(): void {
  const { values } = parseArgs({
    options: { workdir: { type: "string" }, node: { type: "string" }, report: { type: "string" } },
  });
  const scratch = values.workdir ?? mkdtempSync(join(tmpdir(), "cdktn-compare-"));
  const out = mkdtempSync(join(tmpdir(), "cdktn-compare-out-"));
  const started = Date.now();
  const { rewritten, kept } = prepareScratch(scratch);
  console.log(`scratch copy: ${scratch} (${rewritten.length} files rewritten to cdktn imports)`);
  if (kept.length > 0) console.log(`kept without a cdktn build: ${kept.join(", ")}`);
  run("npm", ["install", "--no-audit", "--no-fund"], scratch);
  console.log("installed:", run("npm", ["ls", "cdktn", "cdktn-cli", "@cdktn/provider-aws", "constructs", "--depth=0"], scratch).trim().split("\n").slice(1).join(" "));

  const today = normalize(synthesize(root, join(out, "cdktf")), root) as Record<string, unknown>;
  const fork = normalize(synthesize(scratch, join(out, "cdktn")), scratch) as Record<string, unknown>;
  const stacks = [...new Set([...Object.keys(today), ...Object.keys(fork)])].sort();
  const found = stacks.flatMap((stack) => differences(stack, today[stack], fork[stack]));
  let cli: Difference[] | undefined;
  if (values.node) {
    const nodeDir = dirname(values.node);
    run("npx", ["cdktn", "synth", "--output", join(out, "cdktn-cli")], scratch, { PATH: `${nodeDir}:${process.env.PATH}`, CI: "1" });
    const viaCli = normalize(readStacks(join(out, "cdktn-cli")), scratch) as Record<string, unknown>;
    cli = stacks.flatMap((stack) => differences(stack, today[stack], viaCli[stack]));
  }

  const report = { stacks, differences: found, cliDifferences: cli, rewritten, kept, seconds: Math.round((Date.now() - started) / 1000) };
  if (values.report) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`${stacks.length} stacks compared in ${report.seconds} s: ${found.length} differences after normalizing`);
  for (const difference of found) console.log(`  ${difference.stack}: ${difference.path}: cdktf ${JSON.stringify(difference.cdktf)} → cdktn ${JSON.stringify(difference.cdktn)}`);
  if (cli) console.log(`cdktn synth (the fork's CLI): ${cli.length} differences from today's stacks`);
  console.log(`outputs: ${relative(process.cwd(), out) || out}`);
}

if (require.main === module) main();
