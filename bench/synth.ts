/**
 * npm run bench:synth — wall time and peak memory to synthesize every stack (as `cdktf synth` runs
 * the app: `tsx main.ts` in a fresh process), beside the cost of loading @cdktf/provider-aws from
 * its package root, measured in the same run on the same machine.
 *
 * Goal (issue 2): all stacks in <= 2.5 s and <= 300 MB, at least 4x faster than the root import.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackIds } from "../contracts/stack-outputs";
import { BUNDLE_DIRECTORY } from "../modules/function-bundle";

const root = join(__dirname, "..");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const preload = join(__dirname, "report-usage.cjs");

interface Sample {
  wallMs: number;
  peakMiB: number;
}

function measure(args: string[], env: Record<string, string> = {}): Sample {
  const scratch = mkdtempSync(join(tmpdir(), "bench-synth-"));
  const usageFile = join(scratch, "usage.json");
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["--require", preload, ...args], {
    cwd: root,
    env: { ...process.env, ...env, BENCH_USAGE_FILE: usageFile, CDKTF_OUTDIR: join(scratch, "out"), CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed:\n${result.stderr}`);
  const usage = JSON.parse(readFileSync(usageFile, "utf8")) as { peakRssKiB: number };
  if (args.includes("main.ts")) {
    const stacks = readdirSync(join(scratch, "out", "stacks"));
    if (stacks.length !== stackIds.length) throw new Error(`expected ${stackIds.length} synthesized stacks, got ${stacks.join(", ")}`);
  }
  rmSync(scratch, { recursive: true, force: true });
  return { wallMs, peakMiB: usage.peakRssKiB / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function series(label: string, args: string[], beforeEach = () => {}): { label: string; wallMs: number; peakMiB: number; minMs: number } {
  measure(args); // warm the file cache
  const samples = Array.from({ length: runs }, () => {
    beforeEach();
    return measure(args);
  });
  return {
    label,
    wallMs: median(samples.map((s) => s.wallMs)),
    minMs: Math.min(...samples.map((s) => s.wallMs)),
    peakMiB: median(samples.map((s) => s.peakMiB)),
  };
}

const requireRoot = `require(${JSON.stringify(["@cdktf", "provider-aws"].join("/"))})`;
const synth = series("synth all stacks (tsx main.ts, deep imports)", ["--import", "tsx", "main.ts"]);
// A fresh clone has no Lambda bundles yet: every function is bundled by esbuild during synth.
const synthCold = series("  same, cold: no Lambda bundle cache", ["--import", "tsx", "main.ts"], () => rmSync(BUNDLE_DIRECTORY, { recursive: true, force: true }));
// The app runs under tsx (cdktf.json), so a root import in it would load through tsx's hooks too.
const rootImport = series("baseline: provider root import under tsx", ["--import", "tsx", "-e", requireRoot]);
const rootImportPlain = series("baseline: provider root import, plain node", ["-e", requireRoot]);
const nodeStart = series("baseline: empty node process", ["-e", ""]);

const rows = [synth, synthCold, rootImport, rootImportPlain, nodeStart];
console.log(`bench:synth — median of ${runs} runs after one warm-up, ${new Date().toISOString()}, node ${process.version}`);
console.log("");
console.log(`${"what".padEnd(50)} ${"median ms".padStart(10)} ${"min ms".padStart(8)} ${"peak MiB".padStart(9)}`);
for (const row of rows) {
  console.log(`${row.label.padEnd(50)} ${row.wallMs.toFixed(0).padStart(10)} ${row.minMs.toFixed(0).padStart(8)} ${row.peakMiB.toFixed(0).padStart(9)}`);
}
const speedup = rootImport.wallMs / synth.wallMs;
const goals = [
  [`all stacks <= 2500 ms (warm ${synth.wallMs.toFixed(0)} ms, cold ${synthCold.wallMs.toFixed(0)} ms)`, synthCold.wallMs <= 2500],
  [`all stacks <= 300 MB peak`, Math.max(synth.peakMiB, synthCold.peakMiB) * 1.048576 <= 300],
  [`root import under tsx / synth >= 4x (measured ${speedup.toFixed(1)}x; plain node: ${(rootImportPlain.wallMs / synth.wallMs).toFixed(1)}x)`, speedup >= 4],
] as const;
console.log("");
for (const [goal, met] of goals) console.log(`${met ? "met    " : "MISSED "} ${goal}`);
process.exitCode = goals.every(([, met]) => met) ? 0 : 1;
