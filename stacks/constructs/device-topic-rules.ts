import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IotTopicRule, type IotTopicRuleErrorAction } from "@cdktf/provider-aws/lib/iot-topic-rule";
import { Construct } from "constructs";
import type { ProjectNames } from "../../contracts/names";
import { IOT_SQL_VERSION, TOPIC_RULE_LOG_GROUPS, type TopicRuleAction, type TopicRuleRole, type TopicRules } from "../../contracts/topic-rules";
import type { AwsAccount } from "../../modules/aws-account";

/** Construct id of each topic rule log group (part of its Terraform address). */
const LOG_GROUP_IDS = { ruleErrors: "rule-error-logs", responses: "response-logs" } as const satisfies Record<keyof typeof TOPIC_RULE_LOG_GROUPS, string>;

/** Names → references of resources the calling stack owns, so Terraform orders the rules after them. */
export interface OwnedRuleTargets {
  readonly topics: Readonly<Record<string, string>>;
  readonly tables: Readonly<Record<string, string>>;
  /** Function name → function ARN. */
  readonly functions: Readonly<Record<string, string>>;
}

export interface DeviceTopicRulesProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly topicRules: TopicRules;
  /** ARN of each role IoT assumes for the actions (the `roles` stack's outputs). */
  readonly roleArns: Readonly<Record<TopicRuleRole, string>>;
  readonly owned: OwnedRuleTargets;
  readonly logRetentionDays: number;
}

/**
 * The topic rules (contracts/topic-rules.ts) as `aws_iot_topic_rule` resources, each under its
 * spec's id, with the log groups of rule errors and device responses. A target the stack owns is
 * referred to; any other by its name.
 */
export class DeviceTopicRules extends Construct {
  private readonly rules = new Map<string, IotTopicRule>();
  private readonly logGroups: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, private readonly props: DeviceTopicRulesProps) {
    super(scope, id);
    const { names, logRetentionDays } = props;
    this.logGroups = Object.fromEntries(
      (Object.keys(LOG_GROUP_IDS) as (keyof typeof LOG_GROUP_IDS)[]).map((key) => {
        const name = names.logGroup(TOPIC_RULE_LOG_GROUPS[key]);
        return [name, new CloudwatchLogGroup(this, LOG_GROUP_IDS[key], { name, retentionInDays: logRetentionDays }).name];
      }),
    );
    const errorAction: IotTopicRuleErrorAction = { cloudwatchLogs: this.cloudwatchLogs(props.topicRules.errorAction) };
    for (const spec of props.topicRules.rules) {
      const sns = spec.actions.flatMap((action) =>
        action.kind === "sns" ? [{ targetArn: this.topicArn(action.topicName), roleArn: props.roleArns[action.role], messageFormat: action.messageFormat }] : [],
      );
      const cloudwatchLogs = spec.actions.flatMap((action) => (action.kind === "cloudwatch_logs" ? [this.cloudwatchLogs(action)] : []));
      const dynamodb = spec.actions.flatMap((action) =>
        action.kind === "dynamodb"
          ? [
              {
                tableName: props.owned.tables[action.tableName] ?? action.tableName,
                hashKeyField: action.hashKeyField,
                hashKeyType: "STRING",
                // An IoT substitution template, escaped from Terraform's own interpolation.
                hashKeyValue: action.hashKeyValue.replace(/\$\{/g, () => "$${"),
                operation: "UPDATE",
                payloadField: action.payloadField,
                roleArn: props.roleArns[action.role],
              },
            ]
          : [],
      );
      const lambda = spec.actions.flatMap((action) => (action.kind === "lambda" ? [{ functionArn: this.functionArn(action.functionName) }] : []));
      this.rules.set(
        spec.id,
        new IotTopicRule(this, spec.id, {
          name: spec.name,
          description: spec.description,
          enabled: true,
          sqlVersion: IOT_SQL_VERSION,
          sql: spec.sql,
          ...(sns.length ? { sns } : {}),
          ...(cloudwatchLogs.length ? { cloudwatchLogs } : {}),
          ...(dynamodb.length ? { dynamodb } : {}),
          ...(lambda.length ? { lambda } : {}),
          errorAction,
        }),
      );
    }
  }

  /** The one rule with a Lambda action invoking this function (its ARN scopes the invoke permission). */
  ruleInvoking(functionName: string): IotTopicRule {
    const ids = this.props.topicRules.rules
      .filter((spec) => spec.actions.some((action) => action.kind === "lambda" && action.functionName === functionName))
      .map((spec) => spec.id);
    if (ids.length !== 1) throw new Error(`expected one topic rule invoking ${functionName}, found ${ids.length}`);
    return this.rules.get(ids[0]!)!;
  }

  private cloudwatchLogs(action: Extract<TopicRuleAction, { kind: "cloudwatch_logs" }>) {
    return { logGroupName: this.logGroups[action.logGroupName] ?? action.logGroupName, roleArn: this.props.roleArns[action.role] };
  }

  private topicArn(topicName: string): string {
    return this.props.owned.topics[topicName] ?? this.props.account.arn("sns", topicName);
  }

  private functionArn(functionName: string): string {
    return this.props.owned.functions[functionName] ?? this.props.account.arn("lambda", `function:${functionName}`);
  }
}
