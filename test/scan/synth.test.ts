/**
 * Issue #8 item 15: `npm run scan` reuses cdktf.out only while it is fresh. A throwaway git repo in
 * a temp dir stands in for the work tree; the synth step is recorded instead of running cdktf.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stateKey } from "../../contracts/stack-outputs";
import { synthesizedStacks } from "../../scripts/scan/synth";
import { loadEnvironment } from "../../config";

describe("the scan's synth step (item 15)", () => {
  let repo: string;
  const seconds = (offset: number) => new Date(Date.UTC(2026, 0, 1) + offset * 1000);

  /** A repo with one synth input and a cdktf.out of two stacks: `state` (local backend) and `vpc`. */
  function writeRepo(vpcKey: string, inputAge: number, manifestAge: number) {
    rmSync(repo, { recursive: true, force: true });
    mkdirSync(join(repo, "stacks"), { recursive: true });
    execFileSync("git", ["init", "-q"], { cwd: repo });
    writeFileSync(join(repo, "main.ts"), "// app\n");
    utimesSync(join(repo, "main.ts"), seconds(inputAge), seconds(inputAge));
    const stacks = { state: { terraform: {} }, vpc: { terraform: { backend: { s3: { key: vpcKey } } } } };
    for (const [name, document] of Object.entries(stacks)) {
      mkdirSync(join(repo, "cdktf.out", "stacks", name), { recursive: true });
      writeFileSync(join(repo, "cdktf.out", "stacks", name, "cdk.tf.json"), JSON.stringify(document));
    }
    const manifest = join(repo, "cdktf.out", "manifest.json");
    writeFileSync(manifest, JSON.stringify({ stacks: Object.fromEntries(Object.keys(stacks).map((name) => [name, { synthesizedStackPath: `stacks/${name}/cdk.tf.json` }])) }));
    utimesSync(manifest, seconds(manifestAge), seconds(manifestAge));
  }

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), "scan-synth-test-"));
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const currentKey = () => stateKey(loadEnvironment().name, "vpc");

  it("reuses a cdktf.out newer than every input and synthesized for this environment", () => {
    writeRepo(currentKey(), 0, 10);
    const synthesize = jest.fn();
    const lines: string[] = [];
    expect(synthesizedStacks(repo, (line) => lines.push(line), synthesize)).toEqual({ stacksDir: join(repo, "cdktf.out", "stacks"), stacks: ["state", "vpc"] });
    expect(synthesize).not.toHaveBeenCalled();
    expect(lines).toEqual(["reusing cdktf.out (newer than every synth input, same environment)"]);
  });

  it("synthesizes when an input is newer, when another environment was synthesized, or when there is no cdktf.out", () => {
    for (const [key, inputAge, manifestAge] of [
      [currentKey(), 20, 10],
      ["another-environment/vpc.tfstate", 0, 10],
    ] as const) {
      writeRepo(key, inputAge, manifestAge);
      const synthesize = jest.fn();
      synthesizedStacks(repo, () => undefined, synthesize);
      expect(synthesize).toHaveBeenCalledWith(repo);
    }
    rmSync(join(repo, "cdktf.out"), { recursive: true });
    const synthesize = jest.fn();
    expect(() => synthesizedStacks(repo, () => undefined, synthesize)).toThrow(/manifest\.json/);
    expect(synthesize).toHaveBeenCalledTimes(1);
  });
});
