import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// validate and emulate refuse a Terraform older than the stacks' required_version. Stand-in
// binaries that print `terraform version -json` cover the versions this machine does not have.
describe("checkTerraformVersion", () => {
  const dir = mkdtempSync(join(tmpdir(), "terraform-version-"));
  const previous = process.env.TERRAFORM;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    if (previous === undefined) delete process.env.TERRAFORM;
    else process.env.TERRAFORM = previous;
  });

  function check(version: string, required: string): string {
    const binary = join(dir, `terraform-${version}`);
    writeFileSync(binary, `#!/bin/sh\necho '{"terraform_version":"${version}","platform":"linux_amd64"}'\n`);
    chmodSync(binary, 0o755);
    let result = "";
    jest.isolateModules(() => {
      process.env.TERRAFORM = binary;
      result = require("../../scripts/lib/terraform-scratch").checkTerraformVersion(required, {});
    });
    return result;
  }

  it("accepts the required version and newer ones", () => {
    expect(check("1.11.0", ">= 1.11.0")).toBe("1.11.0");
    expect(check("1.12.2", ">= 1.11.0")).toBe("1.12.2");
    expect(check("2.0.0", ">= 1.11.0")).toBe("2.0.0");
  });

  it("refuses an older Terraform with a message that names both versions", () => {
    expect(() => check("1.10.5", ">= 1.11.0")).toThrow(/Terraform 1\.10\.5 is too old: the stacks require >= 1\.11\.0/);
    expect(() => check("0.15.0", ">= 1.11.0")).toThrow(/too old/);
  });

  it("refuses a constraint it cannot check rather than passing it", () => {
    expect(() => check("1.11.4", "~> 1.11")).toThrow(/only ">= x.y.z" is understood/);
  });

  it("names the binary when it cannot run", () => {
    jest.isolateModules(() => {
      process.env.TERRAFORM = join(dir, "missing");
      expect(() => require("../../scripts/lib/terraform-scratch").checkTerraformVersion(">= 1.11.0", {})).toThrow(/cannot run .*missing/);
    });
  });
});
