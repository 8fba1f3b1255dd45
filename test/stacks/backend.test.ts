import { stackIds } from "../../contracts/stack-outputs";
import { REQUIRED_TERRAFORM_VERSION } from "../../stacks/project-stack";
import { defaultConfig, synthAll } from "../helpers/synth";

describe("every stack's backend and provider", () => {
  const stacks = synthAll();

  it("has exactly the stack ids of the deployment order", () => {
    expect(Object.keys(stacks)).toEqual(["state", "vpc", "connect", "roles", "ecr", "ec2", "iot", "iot-fleet", "api"]);
    expect(stackIds).toEqual(Object.keys(stacks));
  });

  it.each(["vpc", "connect", "roles", "ecr", "ec2", "iot", "iot-fleet", "api"] as const)("%s keeps encrypted, S3-locked state at <env>/%s.tfstate", (id) => {
    expect(stacks[id].terraform.backend).toEqual({
      s3: {
        bucket: defaultConfig.stateBucket,
        key: `dev/${id}.tfstate`,
        region: defaultConfig.region,
        encrypt: true,
        kms_key_id: "arn:aws:kms:eu-west-1:123456789012:alias/smarthome-dev-terraform-state",
        use_lockfile: true,
      },
    });
    expect(stacks[id].terraform.backend.s3).not.toHaveProperty("dynamodb_table");
  });

  it("state keeps its own state locally: it creates the bucket the others use", () => {
    expect(stacks.state.terraform.backend).toEqual({ local: { path: expect.stringMatching(/terraform\.state\.tfstate$/) } });
  });

  it.each(stackIds)("%s requires a Terraform with S3-native locking and pins the region, account and tags", (id) => {
    const stack = stacks[id];
    expect(stack.terraform.required_version).toBe(REQUIRED_TERRAFORM_VERSION);
    expect(stack.provider?.aws).toEqual([
      expect.objectContaining({
        region: "eu-west-1",
        allowed_account_ids: ["123456789012"],
        default_tags: [{ tags: { Project: "smarthome", Environment: "dev", Stack: id, ManagedBy: "cdktf" } }],
      }),
    ]);
  });
});
