import type { StackId } from "../../contracts/stack-outputs";
import { anyDeviceTopicFilter, LIFECYCLE_TOPIC_FILTER } from "../../contracts/topics";
import type { StackJson } from "../../local/synthesized";

/** What the synthesized stacks create that AWS bills for, read from the Terraform JSON. */
export interface BillableInventory {
  readonly region: string;
  readonly instances: readonly { id: string; instanceType: string; cpuCredits: string; rootVolumeGb: number; rootVolumeType: string }[];
  /** Elastic IPs: each is a public IPv4 address billed by the hour. */
  readonly publicIpv4Addresses: number;
  readonly secrets: number;
  readonly kmsKeys: number;
  readonly functions: Readonly<Record<string, { memoryMb: number; architecture: string }>>;
  readonly logGroups: readonly { name: string; retentionDays: number }[];
  readonly tables: readonly { name: string; billingMode: string }[];
  readonly emailSubscriptions: number;
  /** Actions each device-facing topic rule runs per trigger, by the topic it listens to. */
  readonly ruleActions: Readonly<Record<"responses" | "errors" | "lifecycle", number>>;
  /** Tagged images the lifecycle policy keeps (ECR storage grows to this many). */
  readonly keptImages: number;
  readonly restApis: number;
  /** SQS queues a Lambda event source mapping long-polls. */
  readonly polledQueues: number;
  /** Buckets of Terraform state (the state bucket and its access-log bucket). */
  readonly buckets: number;
  /** Buckets agent releases are downloaded from over the air (the iot-fleet stack's). */
  readonly agentReleaseBuckets: number;
}

const RULE_ATTRIBUTES_THAT_ARE_NOT_ACTIONS = new Set(["name", "description", "enabled", "sql", "sql_version", "error_action", "tags", "tags_all", "depends_on", "lifecycle", "provider", "count", "for_each"]);

function all(stacks: Record<StackId, StackJson>, type: string): { stack: StackId; id: string; resource: any }[] {
  return Object.entries(stacks).flatMap(([stack, json]) =>
    Object.entries(json.resource?.[type] ?? {}).map(([id, resource]) => ({ stack: stack as StackId, id, resource })),
  );
}

function singleRegion(stacks: Record<StackId, StackJson>): string {
  const regions = new Set(Object.values(stacks).flatMap((json) => (json.provider?.aws ?? []).map((provider: any) => provider.region)));
  if (regions.size !== 1) throw new Error(`the stacks use ${regions.size} AWS regions (${[...regions].join(", ")}); the cost model prices one`);
  return [...regions][0] as string;
}

/** Reads the billable resources of every stack; fails on a resource the price table cannot price. */
export function billableInventory(stacks: Record<StackId, StackJson>, topicRoot: string): BillableInventory {
  const instances = all(stacks, "aws_instance").map(({ id, resource }) => {
    const root = [resource.root_block_device ?? {}].flat()[0] ?? {};
    return {
      id,
      instanceType: String(resource.instance_type),
      cpuCredits: String([resource.credit_specification ?? {}].flat()[0]?.cpu_credits ?? "unlimited"),
      // AL2023's arm64 AMI has an 8 GiB root volume when none is set.
      rootVolumeGb: Number(root.volume_size ?? 8),
      rootVolumeType: String(root.volume_type ?? "gp3"),
    };
  });

  const functions = Object.fromEntries(
    all(stacks, "aws_lambda_function").map(({ resource }) => [
      String(resource.function_name),
      { memoryMb: Number(resource.memory_size ?? 128), architecture: String([resource.architectures ?? ["x86_64"]].flat()[0]) },
    ]),
  );

  const ruleActions = { responses: 0, errors: 0, lifecycle: 0 };
  const sources = {
    responses: `'${anyDeviceTopicFilter(topicRoot, "responses")}'`,
    errors: `'${anyDeviceTopicFilter(topicRoot, "errors")}'`,
    lifecycle: `'${LIFECYCLE_TOPIC_FILTER}'`,
  } as const;
  for (const { id, resource } of all(stacks, "aws_iot_topic_rule")) {
    const kind = (Object.keys(sources) as (keyof typeof sources)[]).find((key) => String(resource.sql).includes(`FROM ${sources[key]}`));
    if (!kind) throw new Error(`topic rule ${id} listens to a topic the cost model does not know: ${resource.sql}`);
    const actions = Object.entries(resource)
      .filter(([key]) => !RULE_ATTRIBUTES_THAT_ARE_NOT_ACTIONS.has(key))
      .reduce((sum, [, value]) => sum + [value].flat().length, 0);
    ruleActions[kind] += actions;
  }

  const keptImages = Math.max(
    0,
    ...all(stacks, "aws_ecr_lifecycle_policy").flatMap(({ resource }) =>
      (JSON.parse(resource.policy).rules as any[])
        .filter((rule) => rule.selection?.countType === "imageCountMoreThan")
        .map((rule) => Number(rule.selection.countNumber)),
    ),
  );

  const buckets = all(stacks, "aws_s3_bucket");
  return {
    region: singleRegion(stacks),
    instances,
    publicIpv4Addresses: all(stacks, "aws_eip").length,
    secrets: all(stacks, "aws_secretsmanager_secret").length,
    kmsKeys: all(stacks, "aws_kms_key").length,
    functions,
    logGroups: all(stacks, "aws_cloudwatch_log_group").map(({ resource }) => ({
      name: String(resource.name),
      // 0 means "never expire" in CloudWatch; the model keeps a year of such logs.
      retentionDays: Number(resource.retention_in_days ?? 0),
    })),
    tables: all(stacks, "aws_dynamodb_table").map(({ resource }) => ({ name: String(resource.name), billingMode: String(resource.billing_mode ?? "PROVISIONED") })),
    emailSubscriptions: all(stacks, "aws_sns_topic_subscription").filter(({ resource }) => resource.protocol === "email").length,
    ruleActions,
    keptImages,
    restApis: all(stacks, "aws_api_gateway_rest_api").length,
    polledQueues: all(stacks, "aws_lambda_event_source_mapping").filter(({ resource }) => String(resource.event_source_arn).includes("aws_sqs_queue")).length,
    buckets: buckets.filter(({ stack }) => stack === "state").length,
    agentReleaseBuckets: buckets.filter(({ stack }) => stack === "iot-fleet").length,
  };
}
