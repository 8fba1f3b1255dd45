import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackOutputs, type StackId } from "../../contracts/stack-outputs";
import { IGNORED_ATTRIBUTES, LEFT_OUT, leftOutSummary } from "../../scripts/emulate/gaps";
import { emulateOverride } from "../../scripts/emulate/overrides";
import { resources, synthAll } from "../helpers/synth";

// The override npm run emulate writes beside each synthesized stack (the full apply against moto
// runs in .ci/checks/emulate.sh; this covers what the override says, without terraform).
describe("emulate override files", () => {
  const stacks = synthAll();
  const scratch = mkdtempSync(join(tmpdir(), "emulate-overrides-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function override(stackId: StackId, leftOut: StackId[]): any {
    const stackDir = join(scratch, stackId);
    mkdirSync(stackDir, { recursive: true });
    writeFileSync(join(stackDir, "cdk.tf.json"), JSON.stringify(stacks[stackId]));
    return emulateOverride({ stackDir, stackId, motoEndpoint: "http://127.0.0.1:5999", stateDir: "/state", providerVersions: { aws: "6.48.0" }, leftOut: new Set(leftOut) });
  }

  it("points the provider at moto with test credentials, keeps the provider source and uses local state", () => {
    const ec2 = override("ec2", []);
    expect(ec2.terraform.backend).toEqual({ local: { path: "/state/ec2.tfstate" } });
    expect(ec2.terraform.required_providers.aws).toEqual({ source: "aws", version: "6.48.0" });
    const endpoints = Object.values(ec2.provider.aws.endpoints[0]);
    expect(endpoints.length).toBeGreaterThan(10);
    expect(new Set(endpoints)).toEqual(new Set(["http://127.0.0.1:5999"]));
    expect(ec2.provider.aws).toMatchObject({ access_key: "test", secret_key: "test", skip_credentials_validation: true });
  });

  it("reads every producer's outputs from its local state file, with no defaults when it is applied", () => {
    const remote = override("ec2", []).data.terraform_remote_state;
    expect(Object.keys(remote).sort()).toEqual(["remote-state-ecr", "remote-state-roles", "remote-state-vpc"]);
    for (const producer of ["ecr", "roles", "vpc"]) {
      expect(remote[`remote-state-${producer}`]).toEqual({ backend: "local", config: { path: `/state/${producer}.tfstate` } });
    }
  });

  it("gives a left-out producer's outputs as defaults, one per name in the stack-output contract", () => {
    const remote = override("api", ["iot-fleet"]).data.terraform_remote_state["remote-state-iot-fleet"];
    expect(Object.keys(remote.defaults).sort()).toEqual(Object.keys(stackOutputs["iot-fleet"]).sort());
    expect(remote.defaults.serial_table_arn).toMatch(/^arn:aws:[\w-]+:eu-west-1:123456789012:/);
  });

  it("ignores only the attributes moto does not keep, on every resource of that type", () => {
    const api = override("api", ["iot-fleet"]);
    const functions = Object.keys(resources(stacks.api, "aws_lambda_function"));
    expect(functions).toHaveLength(1);
    expect(Object.keys(api.resource)).toEqual(Object.keys(IGNORED_ATTRIBUTES));
    expect(api.resource.aws_lambda_function).toEqual(Object.fromEntries(functions.map((id) => [id, { lifecycle: { ignore_changes: ["logging_config"] } }])));
    expect(override("vpc", []).resource).toBeUndefined();
  });

  it("the summary line names every left-out stack and ignored attribute", () => {
    const summary = leftOutSummary();
    expect(Object.keys(LEFT_OUT)).toHaveLength(4);
    for (const id of Object.keys(LEFT_OUT)) expect(summary).toContain(`stack ${id} (`);
    expect(summary).toContain("aws_lambda_function.logging_config");
  });
});
