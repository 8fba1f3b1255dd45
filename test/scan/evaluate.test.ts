/** Issue #8 item 15: the failure rules of `npm run scan`, over checkov results as the parser returns them. */
import type { CheckovResults, Finding, StackResults } from "../../scripts/scan/checkov-report";
import { evaluate, formatVerdict, type Acceptances } from "../../scripts/scan/evaluate";

const finding = (stack: string, address: string, checkId: string): Finding => ({ stack, address, checkId, checkName: `name of ${checkId}` });

const accept: Acceptances = {
  skippedChecks: [{ checkId: "CKV_AWS_50", title: "X-Ray", reason: "not here" }],
  resourceSuppressions: [{ stack: "connect", address: "aws_vpc_security_group_ingress_rule.ssh", checkId: "CKV_AWS_24", reason: "false positive" }],
};
const stacks = ["connect", "iot"];

/** Results where every acceptance matches and nothing else failed. */
function cleanResults(): Map<string, StackResults> {
  return new Map<string, StackResults>([
    ["connect", { passed: 14, skippedByCheckov: 0, failed: [finding("connect", "aws_vpc_security_group_ingress_rule.ssh", "CKV_AWS_24")] }],
    ["iot", { passed: 60, skippedByCheckov: 0, failed: [finding("iot", "aws_lambda_function.a", "CKV_AWS_50"), finding("iot", "aws_lambda_function.b", "CKV_AWS_50")] }],
  ]);
}

describe("evaluate: the scan's failure rules (item 15)", () => {
  it("passes when every failed check is skipped or suppressed, with one summary per stack", () => {
    const verdict = evaluate({ stacks: cleanResults(), parseErrors: [] }, stacks, accept);
    expect(verdict).toEqual({
      ok: true,
      summaries: [
        { stack: "connect", passed: 14, failed: 0, skipped: 1 },
        { stack: "iot", passed: 60, failed: 0, skipped: 2 },
      ],
      findings: [],
      errors: [],
    });
    expect(formatVerdict(verdict)).toEqual([
      "connect: 14 passed, 0 failed, 1 skipped",
      "iot: 60 passed, 0 failed, 2 skipped",
      "checkov scan passed: 74 passed, 0 failed, 3 skipped over 2 stacks",
    ]);
  });

  it("fails on a new finding, and a suppression for another stack or check does not hide it", () => {
    const results = cleanResults();
    results.get("iot")!.failed.push(finding("iot", "aws_vpc_security_group_ingress_rule.ssh", "CKV_AWS_24"), finding("connect", "x", "CKV_AWS_1"));
    const verdict = evaluate({ stacks: results, parseErrors: [] }, stacks, accept);
    expect(verdict.ok).toBe(false);
    expect(verdict.findings).toEqual([finding("iot", "aws_vpc_security_group_ingress_rule.ssh", "CKV_AWS_24"), finding("connect", "x", "CKV_AWS_1")]);
    expect(verdict.errors).toEqual([]);
    expect(formatVerdict(verdict).at(-1)).toBe("checkov scan FAILED: 2 finding(s), 0 error(s); 74 passed, 2 failed, 3 skipped over 2 stacks");
  });

  it("fails when a stack's file could not be parsed", () => {
    const results = cleanResults();
    results.delete("iot");
    const verdict = evaluate({ stacks: results, parseErrors: ["iot"] }, stacks, { ...accept, skippedChecks: [] });
    expect(verdict.ok).toBe(false);
    expect(verdict.errors).toEqual(["checkov could not parse the iot stack's cdk.tf.json"]);
  });

  it("fails when no check ran on a stack, or on any stack (checkov exits 0 then)", () => {
    const results = cleanResults();
    results.set("iot", { passed: 0, skippedByCheckov: 0, failed: [] });
    const oneEmpty = evaluate({ stacks: results, parseErrors: [] }, stacks, { ...accept, skippedChecks: [] });
    expect(oneEmpty.ok).toBe(false);
    expect(oneEmpty.errors).toEqual(["no checkov check ran on the iot stack"]);

    const nothing = evaluate({ stacks: new Map(), parseErrors: [] }, stacks, { skippedChecks: [], resourceSuppressions: [] });
    expect(nothing.ok).toBe(false);
    expect(nothing.errors).toEqual(["no checkov check ran on the connect stack", "no checkov check ran on the iot stack"]);
    expect(formatVerdict(nothing).at(-1)).toBe("checkov scan FAILED: 0 finding(s), 2 error(s); 0 passed, 0 failed, 0 skipped over 2 stacks");
  });

  it("fails on a stale suppression and on a stale skip, so neither can outlive its reason", () => {
    const results = cleanResults();
    results.get("connect")!.failed.length = 0;
    results.get("iot")!.failed.length = 0;
    const verdict = evaluate({ stacks: results, parseErrors: [] }, stacks, accept);
    expect(verdict.ok).toBe(false);
    expect(verdict.findings).toEqual([]);
    expect(verdict.errors).toEqual([
      "stale skip: CKV_AWS_50 (X-Ray) fails on no resource; remove it from scripts/scan/suppressions.ts",
      "stale suppression: CKV_AWS_24 on connect/aws_vpc_security_group_ingress_rule.ssh matches no failed check; remove it from scripts/scan/suppressions.ts",
    ]);
  });

  it("fails on a suppression of a check that is skipped by id anyway, and on results for an unknown stack", () => {
    const results = cleanResults();
    results.set("elsewhere", { passed: 1, skippedByCheckov: 0, failed: [] });
    const redundant = { ...accept, resourceSuppressions: [...accept.resourceSuppressions, { stack: "iot" as const, address: "aws_lambda_function.a", checkId: "CKV_AWS_50", reason: "twice" }] };
    const verdict = evaluate({ stacks: results, parseErrors: [] } as CheckovResults, stacks, redundant);
    expect(verdict.ok).toBe(false);
    expect(verdict.errors).toEqual([
      'checkov reported results for an unknown stack "elsewhere"',
      "suppression of CKV_AWS_50 on iot/aws_lambda_function.a is redundant: the check is skipped by id",
    ]);
  });
});
