/**
 * Issue #8 item 15: the traps the scan guards against, shown by the real pinned checkov (one run,
 * a few seconds; the first run on a machine installs it into the cache venv, as `npm run scan` does).
 * Three tiny stacks: one with cdktf's string `terraform.required_version` as checkov gets it without
 * the scratch copy (bridgecrewio/checkov#7454: parsing error, exit 0), one no check applies to, and
 * one with SSH open to the world.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCheckovOutput } from "../../scripts/scan/checkov-report";
import { ensureCheckov, runCheckov } from "../../scripts/scan/checkov";
import { evaluate, type Acceptances } from "../../scripts/scan/evaluate";
import { resourceTypesOf } from "../../scripts/scan/scratch";

const openSsh = {
  resource: {
    aws_security_group: {
      open: {
        description: "SSH from anywhere",
        ingress: [{ description: "ssh", from_port: 22, to_port: 22, protocol: "tcp", cidr_blocks: ["0.0.0.0/0"] }],
      },
    },
  },
};

const stacks = {
  broken: { terraform: { required_version: ">= 1.11.0" }, ...openSsh },
  quiet: { terraform: { required_providers: { null: { source: "null", version: "3.3.1" } } }, output: { greeting: { value: "hello" } } },
  open: openSsh,
};

describe("the real checkov (item 15)", () => {
  let directory: string;
  let checkov: string;
  beforeAll(async () => {
    checkov = await ensureCheckov(() => undefined);
    directory = mkdtempSync(join(tmpdir(), "scan-checkov-test-"));
    for (const [name, document] of Object.entries(stacks)) {
      mkdirSync(join(directory, name));
      writeFileSync(join(directory, name, "cdk.tf.json"), JSON.stringify(document, null, 2));
    }
  }, 15 * 60_000);
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("fails the scan on a parsing error, on a stack without checks, on a finding and on a stale suppression", () => {
    const output = runCheckov(checkov, directory);
    const types = new Map(Object.entries(stacks).map(([name, document]) => [name, resourceTypesOf(document)]));
    const results = parseCheckovOutput(output.stdout, types);

    // The trap: the unparsable file is only a parsing error, not a crash of the run.
    expect(results.parseErrors).toEqual(["broken"]);
    expect(results.stacks.get("open")?.failed.map((finding) => finding.checkId)).toContain("CKV_AWS_24");

    const accept: Acceptances = {
      skippedChecks: [],
      resourceSuppressions: [{ stack: "iot", address: "aws_lambda_function.gone", checkId: "CKV_AWS_116", reason: "a resource that no longer exists" }],
    };
    const verdict = evaluate(results, Object.keys(stacks), accept);
    expect(verdict.ok).toBe(false);
    expect(verdict.errors).toEqual([
      "checkov could not parse the broken stack's cdk.tf.json",
      "no checkov check ran on the quiet stack",
      "stale suppression: CKV_AWS_116 on iot/aws_lambda_function.gone matches no failed check; remove it from scripts/scan/suppressions.ts",
    ]);
    expect(verdict.findings).toContainEqual({
      stack: "open",
      address: "aws_security_group.open",
      checkId: "CKV_AWS_24",
      checkName: "Ensure no security groups allow ingress from 0.0.0.0:0 to port 22",
    });
  }, 120_000);

  it("exits 0 with zero checks when it parses nothing: the exit code alone would pass", () => {
    const only = mkdtempSync(join(tmpdir(), "scan-checkov-broken-"));
    try {
      mkdirSync(join(only, "broken"));
      writeFileSync(join(only, "broken", "cdk.tf.json"), JSON.stringify(stacks.broken));
      const output = runCheckov(checkov, only);
      expect(output.status).toBe(0);
      const results = parseCheckovOutput(output.stdout, new Map());
      expect(results.parseErrors).toEqual(["broken"]);
      expect(evaluate(results, ["broken"], { skippedChecks: [], resourceSuppressions: [] }).ok).toBe(false);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
  }, 120_000);
});
