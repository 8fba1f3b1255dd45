import { compareAfterMoves } from "../../scripts/emulate/synth-moves";
import { classifyPlan } from "../../scripts/emulate-moves";

// The verdict of npm run emulate:moves over `terraform show -json` resource_changes (the full run
// applies the old revision on moto and plans the new one; docs/terraform-proof.md has a measured run).
describe("emulate:moves plan verdict", () => {
  const managed = (address: string, actions: string[], previous?: string) => ({ address, mode: "managed" as const, change: { actions }, ...(previous ? { previous_address: previous } : {}) });

  it("a moved resource with nothing else to do, an unchanged one and a data source read pass", () => {
    const verdict = classifyPlan([
      managed("aws_instance.host_instance_1", ["no-op"], "aws_instance.controller"),
      managed("aws_sqs_queue.q", ["no-op"]),
      { address: "data.aws_ssm_parameter.ami", mode: "data", change: { actions: ["read"] } },
    ]);
    expect(verdict).toEqual({ moved: ["aws_instance.controller → aws_instance.host_instance_1"], findings: [] });
  });

  it("a replace, an update (moved or not), a create and a delete are each a finding", () => {
    const verdict = classifyPlan([
      managed("aws_instance.host_instance_1", ["delete", "create"], "aws_instance.controller"),
      managed("aws_secretsmanager_secret.s", ["update"]),
      managed("aws_sqs_queue.new", ["create"]),
      managed("aws_sqs_queue.old", ["delete"]),
    ]);
    expect(verdict.moved).toHaveLength(1);
    expect(verdict.findings).toEqual([
      "aws_instance.host_instance_1: delete,create (moved from aws_instance.controller)",
      "aws_secretsmanager_secret.s: update",
      "aws_sqs_queue.new: create",
      "aws_sqs_queue.old: delete",
    ]);
  });
});

describe("emulate:moves synthesized comparison", () => {
  const before = {
    resource: {
      aws_sqs_queue: { queue: { name: "q", "//": { metadata: { path: "s/queue" } } } },
      aws_lambda_function: { fn: { function_name: "f", source_code_hash: "A", filename: "assets/fn/a.zip", dead_letter_config: { target_arn: "${aws_sqs_queue.queue.arn}" } } },
    },
    data: { aws_ssm_parameter: { ami: { name: "/ami" } } },
    output: { ami: { value: "${data.aws_ssm_parameter.ami.value}" } },
  };
  const moved = {
    resource: {
      aws_sqs_queue: { wrap_queue_1: { name: "q" } },
      aws_lambda_function: { wrap_fn_2: { function_name: "f", source_code_hash: "A", filename: "assets/wrap_fn/a.zip", dead_letter_config: { target_arn: "${aws_sqs_queue.wrap_queue_1.arn}" } } },
    },
    data: { aws_ssm_parameter: { wrap_ami_3: { name: "/ami" } } },
    output: { ami: { value: "${data.aws_ssm_parameter.wrap_ami_3.value}" } },
    moved: [
      { from: "aws_sqs_queue.queue", to: "aws_sqs_queue.wrap_queue_1" },
      { from: "aws_lambda_function.fn", to: "aws_lambda_function.wrap_fn_2" },
    ],
  };

  it("moves, references to moved resources, renamed data sources and asset paths are no difference", () => {
    expect(compareAfterMoves(before, moved)).toEqual({ moved: 2, codeUpdates: [], differences: [] });
  });

  it("a new bundle is a code update; a changed argument, a lost or an unmoved resource is a difference", () => {
    const changed = structuredClone(moved);
    changed.resource.aws_lambda_function.wrap_fn_2.source_code_hash = "B";
    expect(compareAfterMoves(before, changed)).toEqual({ moved: 2, codeUpdates: ["aws_lambda_function.wrap_fn_2"], differences: [] });
    changed.resource.aws_sqs_queue.wrap_queue_1.name = "other";
    expect(compareAfterMoves(before, changed).differences).toEqual(["aws_sqs_queue.wrap_queue_1: name changed"]);
    const unmoved = { ...structuredClone(moved), moved: moved.moved.slice(1) };
    expect(compareAfterMoves(before, unmoved).differences.sort()).toEqual(["aws_lambda_function.wrap_fn_2: filename, dead_letter_config changed", "aws_sqs_queue.queue: gone", "aws_sqs_queue.wrap_queue_1: new"]);
  });
});
