import { resources, statements, synthAll } from "../helpers/synth";

/**
 * CI applies every stack with the deploy role, whose policy (stacks/terraform-access.ts) is scoped
 * to the project's name patterns. A resource named outside them would fail only at deploy time;
 * this finds it at test time.
 */
const stacks = synthAll();
const ARN_BY_TYPE: Record<string, [attribute: string, arn: (name: string) => string]> = {
  aws_cloudwatch_log_group: ["name", (name) => `arn:aws:logs:eu-west-1:123456789012:log-group:${name}`],
  aws_iam_role: ["name", (name) => `arn:aws:iam::123456789012:role/${name}`],
  aws_iam_policy: ["name", (name) => `arn:aws:iam::123456789012:policy/${name}`],
  aws_iam_instance_profile: ["name", (name) => `arn:aws:iam::123456789012:instance-profile/${name}`],
  aws_lambda_function: ["function_name", (name) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}`],
  aws_sqs_queue: ["name", (name) => `arn:aws:sqs:eu-west-1:123456789012:${name}`],
  aws_sns_topic: ["name", (name) => `arn:aws:sns:eu-west-1:123456789012:${name}`],
  aws_dynamodb_table: ["name", (name) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`],
  aws_cloudwatch_event_rule: ["name", (name) => `arn:aws:events:eu-west-1:123456789012:rule/${name}`],
  aws_secretsmanager_secret: ["name", (name) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`],
  aws_ecr_repository: ["name", (name) => `arn:aws:ecr:eu-west-1:123456789012:repository/${name}`],
  aws_iot_policy: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:policy/${name}`],
  aws_iot_thing: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:thing/${name}`],
  aws_iot_thing_type: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:thingtype/${name}`],
  aws_iot_thing_group: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:thinggroup/${name}`],
  aws_iot_topic_rule: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:rule/${name}`],
  aws_iot_provisioning_template: ["name", (name) => `arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/${name}`],
};

/** IAM resource matching: `*` any characters, `?` one. */
function matches(pattern: string, arn: string): boolean {
  const concrete = pattern.replace(/\$\{data\.aws_partition\.[^}]+\}/g, "aws").replace(/\$\{data\.aws_caller_identity\.[^}]+\}/g, "123456789012");
  const regex = new RegExp(`^${concrete.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
  return regex.test(arn);
}

describe("every named resource is inside the deploy role's scope", () => {
  const writePolicy = Object.values(resources(stacks.roles, "aws_iam_policy")).find((policy) => policy.name === "smarthome-dev-terraform-write");
  const allowedResources = statements(JSON.parse(writePolicy.policy))
    .filter((statement) => statement.Effect === "Allow")
    .flatMap((statement) => statement.Resource);
  const named = Object.entries(stacks).flatMap(([stackId, stack]) =>
    Object.entries(ARN_BY_TYPE).flatMap(([type, [attribute, arn]]) =>
      Object.values(resources(stack, type)).map((resource) => ({ where: `${stackId}: ${type} ${resource[attribute]}`, arn: arn(resource[attribute]) })),
    ),
  );

  it("covers the resources of every stack", () => {
    expect(named.length).toBeGreaterThan(40);
  });

  it("each can be created by the deploy role", () => {
    expect(named.filter(({ arn }) => !allowedResources.some((pattern) => matches(pattern, arn))).map(({ where }) => where)).toEqual([]);
  });
});
