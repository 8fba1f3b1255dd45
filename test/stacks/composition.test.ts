import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ProjectStack } from "../../stacks/project-stack";
import { defaultConfig } from "../helpers/synth";

/** Issue #9 item 4: the stacks read as compositions of named constructs (stacks/constructs/, modules/). */
describe("stacks as compositions", () => {
  const providerResources = (stack: string) =>
    [...readFileSync(join(__dirname, "..", "..", "stacks", `${stack}.ts`), "utf8").matchAll(/from "@cdktf\/provider-aws\/lib\/([^"]+)"/g)].map((match) => match[1]);

  it.each([
    ["iot", []],
    ["iot-fleet", []],
    ["connect", []],
    // The controller's log group is one resource with nothing to hide behind a construct.
    ["ec2", ["cloudwatch-log-group"]],
  ])("stacks/%s.ts builds from constructs, not raw resources", (stack, allowed) => {
    expect(providerResources(stack)).toEqual(allowed);
  });
});

describe("ProjectStack.moveIntoWrapper", () => {
  class Wrapper extends Construct {}

  function build(wrap: boolean, renamed?: Record<string, string>) {
    const stack = new ProjectStack(Testing.app(), "ecr", { config: defaultConfig, backend: "local" });
    const parent = wrap ? new Wrapper(stack, "wrapper") : stack;
    new SqsQueue(parent, wrap && renamed ? "new-queue-id" : "queue", { name: "q" });
    new SqsQueue(new Construct(parent, "group"), "nested", { name: "n" });
    const moved = wrap ? stack.moveIntoWrapper(parent as Wrapper, renamed) : 0;
    return { json: JSON.parse(Testing.synth(stack)), moved };
  }

  it("moves each resource under the wrapper from the address it had without it", () => {
    const before = Object.keys(build(false).json.resource.aws_sqs_queue).map((id) => `aws_sqs_queue.${id}`).sort();
    const { json, moved } = build(true);
    expect(moved).toBe(2);
    const blocks = json.moved.map(({ from, to }: { from: string; to: string }) => ({ from, to }));
    expect(blocks.map((block: { from: string }) => block.from).sort()).toEqual(before);
    expect(blocks.map((block: { to: string }) => block.to).sort()).toEqual(Object.keys(json.resource.aws_sqs_queue).map((id) => `aws_sqs_queue.${id}`).sort());
    expect(before).toContain("aws_sqs_queue.queue");
  });

  it("follows a renamed id to its old path", () => {
    const { json } = build(true, { "new-queue-id": "queue" });
    expect(json.moved.map((block: { from: string }) => block.from)).toContain("aws_sqs_queue.queue");
  });

  it("refuses a rename for a path with no resource, naming it", () => {
    expect(() => build(true, { "no-such-id": "queue" })).toThrow(/no resource at no-such-id/);
  });
});
