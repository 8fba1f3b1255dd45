import { IotTopicRule, type IotTopicRuleErrorAction } from "@cdktf/provider-aws/lib/iot-topic-rule";
import type { Construct } from "constructs";
import { IOT_SQL_VERSION, type TopicRuleAction, type TopicRuleRole, type TopicRules } from "../contracts/topic-rules";

/** Names → references of resources the calling stack owns, so Terraform orders the rules after them. */
export interface OwnedRuleTargets {
  readonly topics: Readonly<Record<string, string>>;
  readonly tables: Readonly<Record<string, string>>;
  readonly logGroups: Readonly<Record<string, string>>;
  /** Function name → function ARN. */
  readonly functions: Readonly<Record<string, string>>;
}

export interface TopicRuleResourcesProps {
  readonly topicRules: TopicRules;
  /** ARN of each role IoT assumes for the actions (the `roles` stack's outputs). */
  readonly roleArns: Readonly<Record<TopicRuleRole, string>>;
  readonly owned: OwnedRuleTargets;
  /** ARN of a regional resource in this account, for a target the stack does not own. */
  readonly arn: (service: string, resource: string) => string;
}

/**
 * Turns topic rule specs (contracts/topic-rules.ts) into `aws_iot_topic_rule` resources in `scope`,
 * under each spec's id. A target the stack owns is referred to; any other by its name.
 */
export class TopicRuleResources {
  private readonly rules = new Map<string, IotTopicRule>();

  constructor(scope: Construct, private readonly props: TopicRuleResourcesProps) {
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
        new IotTopicRule(scope, spec.id, {
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
    return { logGroupName: this.props.owned.logGroups[action.logGroupName] ?? action.logGroupName, roleArn: this.props.roleArns[action.role] };
  }

  private topicArn(topicName: string): string {
    return this.props.owned.topics[topicName] ?? this.props.arn("sns", topicName);
  }

  private functionArn(functionName: string): string {
    return this.props.owned.functions[functionName] ?? this.props.arn("lambda", `function:${functionName}`);
  }
}
