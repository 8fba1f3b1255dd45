/**
 * Issue #8 item 15: the scan's scratch copy works around checkov's crash on a string
 * `terraform.required_version` (bridgecrewio/checkov#7454) without touching the synthesized files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackIds } from "../../contracts/stack-outputs";
import { prepareScratchCopy, withoutScalarTerraformSettings } from "../../scripts/scan/scratch";
import { synthAll } from "../helpers/synth";

describe("the scan's scratch copy (item 15)", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "scan-scratch-test-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("every synthesized stack has the string required_version checkov crashes on; the copy drops only that", () => {
    const stacks = synthAll();
    expect(Object.keys(stacks).sort()).toEqual([...stackIds].sort());
    for (const stack of Object.values(stacks)) {
      expect(typeof stack.terraform.required_version).toBe("string");
      const { document, removed } = withoutScalarTerraformSettings(stack);
      expect(removed).toEqual(["required_version"]);
      const { required_version: _dropped, ...kept } = stack.terraform;
      expect(document.terraform).toEqual(kept);
      expect(document.resource).toBe(stack.resource);
    }
    expect(Object.keys(stacks)).toHaveLength(9);
  });

  it("writes one parsable copy per stack, leaves the originals as they were, and indexes resource types", () => {
    const source = join(root, "stacks");
    const scratch = join(root, "scratch");
    const originals = new Map<string, string>();
    for (const [id, stack] of Object.entries(synthAll())) {
      mkdirSync(join(source, id), { recursive: true });
      const text = JSON.stringify(stack, null, 2);
      writeFileSync(join(source, id, "cdk.tf.json"), text);
      originals.set(id, text);
    }

    const { prepared, types } = prepareScratchCopy(source, [...originals.keys()], scratch);

    expect(prepared.map((stack) => stack.stack)).toEqual([...originals.keys()]);
    expect(prepared).toHaveLength(9);
    for (const [id, text] of originals) {
      expect(readFileSync(join(source, id, "cdk.tf.json"), "utf8")).toBe(text);
      const copy = JSON.parse(readFileSync(join(scratch, id, "cdk.tf.json"), "utf8"));
      expect(copy.terraform.required_version).toBeUndefined();
      expect(copy.terraform.backend).toEqual(JSON.parse(text).terraform.backend);
      expect(copy.moved).toBeUndefined();
    }
    // The stacks that were refactored into constructs carry moved blocks; the copies leave them out.
    expect([...originals.values()].filter((text) => JSON.parse(text).moved?.length).length).toBeGreaterThanOrEqual(4);
    expect(types.get("connect")?.get("instance-connect_target-ingress-from-endpoint_1333F689")).toEqual(["aws_vpc_security_group_ingress_rule"]);
  });
});
