import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { stackOutputs, stackIds, type StackId } from "../contracts/stack-outputs";
import { buildStacks } from "../stacks/app";
import { defaultConfig, synthAll } from "./helpers/synth";

describe("cross-stack values", () => {
  const stacks = synthAll();
  const built = Object.entries(stacks) as [StackId, (typeof stacks)[StackId]][];

  it.each(built)("%s exports exactly the outputs of its contract, with descriptions", (id, stack) => {
    expect(Object.keys(stack.output ?? {}).sort()).toEqual(Object.keys(stackOutputs[id]).sort());
    for (const [name, output] of Object.entries(stack.output ?? {})) {
      expect(output.description).toBe((stackOutputs[id] as Record<string, string>)[name]);
    }
  });

  it("every remote-state read names a stack's state key and an output that stack exports", () => {
    for (const [, stack] of built) {
      const remoteStates = stack.data?.terraform_remote_state ?? {};
      for (const [dataId, remote] of Object.entries(remoteStates)) {
        const producer = dataId.replace(/^remote-state-/, "") as StackId;
        expect(stackIds).toContain(producer);
        expect(remote.config.key).toBe(`dev/${producer}.tfstate`);
        const reads = [...JSON.stringify(stack).matchAll(new RegExp(`data\\.terraform_remote_state\\.${dataId}\\.outputs\\.(\\w+)`, "g"))].map((m) => m[1]);
        expect(reads.length).toBeGreaterThan(0);
        for (const name of reads) expect(Object.keys(stacks[producer].output ?? {})).toContain(name);
      }
    }
  });

  it("records each consumer's dependencies, so cdktf deploy orders the stacks", () => {
    const outdir = mkdtempSync(join(tmpdir(), "manifest-"));
    const app = new App({ outdir });
    buildStacks(app, defaultConfig);
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8"));
    const dependencies = Object.fromEntries(Object.entries<any>(manifest.stacks).map(([id, stack]) => [id, [...stack.dependencies].sort()]));
    expect(dependencies).toEqual({ state: [], vpc: [], connect: ["vpc"], roles: [], ecr: [], ec2: ["ecr", "roles", "vpc"], iot: ["roles"], "iot-fleet": ["iot", "roles"], api: ["iot-fleet"] });
  });

  it("never uses cdktf's implicit cross-stack outputs, whose names follow construct paths", () => {
    for (const [, stack] of built) {
      expect(Object.keys(stack.output ?? {}).filter((name) => name.startsWith("cross-stack-output"))).toEqual([]);
    }
  });
});
