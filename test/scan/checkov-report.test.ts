/**
 * Issue #8 item 15: reading checkov's JSON output. The fixtures have the shapes checkov 3.3.30
 * prints for `--framework terraform_json --output json` over a folder of `<stack>/cdk.tf.json`
 * (trimmed to the fields the scan reads, plus a few it ignores).
 */
import { CheckovOutputError, parseCheckovOutput, resolveAddress, type ResourceTypes } from "../../scripts/scan/checkov-report";

const types: ResourceTypes = new Map([
  ["api", new Map([["serial-api_function_F4430364", ["aws_lambda_function"]]])],
  ["vpc", new Map([["network_vpc_4E8F0223", ["aws_vpc"]], ["twin", ["aws_instance", "aws_eip"]]])],
]);

const result = (check_id: string, file_path: string, resource: string) => ({
  check_id,
  check_name: `name of ${check_id}`,
  check_result: { result: "PASSED" },
  file_path,
  file_abs_path: `stacks${file_path}`,
  resource,
  severity: null,
});

function report(results: Partial<Record<"passed_checks" | "failed_checks" | "skipped_checks" | "parsing_errors", unknown[]>>) {
  return {
    check_type: "terraform_json",
    results: { passed_checks: [], failed_checks: [], skipped_checks: [], parsing_errors: [], ...results },
    summary: { passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resource_count: 0, checkov_version: "3.3.30" },
  };
}

describe("parseCheckovOutput (item 15)", () => {
  it("counts results per stack and resolves python checks' resource.<name> to type.name", () => {
    const output = report({
      passed_checks: [result("CKV_AWS_45", "/api/cdk.tf.json", "resource.serial-api_function_F4430364"), result("CKV_AWS_1", "/vpc/cdk.tf.json", "aws_vpc.network_vpc_4E8F0223")],
      failed_checks: [
        result("CKV_AWS_116", "/api/cdk.tf.json", "resource.serial-api_function_F4430364"),
        result("CKV2_AWS_11", "/vpc/cdk.tf.json", "aws_vpc.network_vpc_4E8F0223"),
      ],
      skipped_checks: [result("CKV_AWS_2", "/vpc/cdk.tf.json", "aws_vpc.network_vpc_4E8F0223")],
    });
    const parsed = parseCheckovOutput(JSON.stringify(output), types);
    expect([...parsed.stacks.keys()].sort()).toEqual(["api", "vpc"]);
    expect(parsed.stacks.get("api")).toEqual({
      passed: 1,
      skippedByCheckov: 0,
      failed: [{ stack: "api", address: "aws_lambda_function.serial-api_function_F4430364", checkId: "CKV_AWS_116", checkName: "name of CKV_AWS_116" }],
    });
    expect(parsed.stacks.get("vpc")).toEqual({
      passed: 1,
      skippedByCheckov: 1,
      failed: [{ stack: "vpc", address: "aws_vpc.network_vpc_4E8F0223", checkId: "CKV2_AWS_11", checkName: "name of CKV2_AWS_11" }],
    });
    expect(parsed.parseErrors).toEqual([]);
  });

  it("names the stack of every file checkov could not parse (absolute paths)", () => {
    const output = report({ parsing_errors: ["/tmp/smart-home-scan-x/vpc/cdk.tf.json", "/tmp/smart-home-scan-x/iot/cdk.tf.json"] });
    expect(parseCheckovOutput(JSON.stringify(output), types).parseErrors).toEqual(["vpc", "iot"]);
  });

  it("takes the terraform_json report out of the array checkov prints for several frameworks", () => {
    const output = [{ ...report({}), check_type: "secrets" }, report({ passed_checks: [result("CKV_AWS_1", "/vpc/cdk.tf.json", "aws_vpc.network_vpc_4E8F0223")] })];
    expect(parseCheckovOutput(JSON.stringify(output), types).stacks.get("vpc")?.passed).toBe(1);
  });

  it("refuses output that is not a terraform_json report, instead of reading it as zero findings", () => {
    // What checkov prints when it found no file to scan: a bare summary.
    const bareSummary = { passed: 0, failed: 0, skipped: 0, parsing_errors: 0, resource_count: 0, checkov_version: "3.3.30" };
    expect(() => parseCheckovOutput(JSON.stringify(bareSummary), types)).toThrow(/expected one terraform_json report/);
    expect(() => parseCheckovOutput("Traceback (most recent call last):", types)).toThrow(CheckovOutputError);
    expect(() => parseCheckovOutput("", types)).toThrow(/did not print JSON/);
    expect(() => parseCheckovOutput(JSON.stringify({ check_type: "terraform_json", results: {} }), types)).toThrow(/unexpected checkov report shape/);
  });

  it("refuses a resource name it cannot resolve to exactly one type", () => {
    expect(resolveAddress("vpc", "aws_eip.twin", types)).toBe("aws_eip.twin");
    expect(() => resolveAddress("vpc", "resource.twin", types)).toThrow(/more than one/);
    expect(() => resolveAddress("vpc", "resource.missing", types)).toThrow(/no resource of that name/);
  });
});
