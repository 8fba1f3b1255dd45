import { DEVICE_TABLE_KEY } from "./device-table";
import type { ProjectNames } from "./names";
import { anyDeviceTopicFilter, LIFECYCLE_TOPIC_FILTER, thingNameTopicLevel } from "./topics";

/**
 * The platform's AWS IoT topic rules as data: one definition that the `iot` stack turns into
 * `aws_iot_topic_rule` resources, the `roles` stack into the IAM statements of the roles IoT assumes
 * for the actions, and the local rules engine (local/rules-engine.ts) into behaviour. Targets are
 * named by resource name (from contracts/names.ts); the stack that owns a target refers to it.
 */

/** The only IoT SQL version the rules are written for. */
export const IOT_SQL_VERSION = "2016-03-23";

/** Roles IoT assumes to run rule actions; the `roles` stack creates each as `names.role(<role>)`. */
export type TopicRuleRole = "iot-alerts" | "iot-rules";

/** An action that IoT runs with a role: `sid` names the IAM statement that lets the role do it. */
interface RoleAction {
  readonly role: TopicRuleRole;
  readonly sid: string;
}

export type TopicRuleAction =
  /** RAW publishes the selected JSON as it is; IoT's default is RAW. */
  | (RoleAction & { readonly kind: "sns"; readonly topicName: string; /** @default "RAW", as IoT */ readonly messageFormat?: "RAW" | "JSON" })
  | (RoleAction & {
      readonly kind: "dynamodb";
      readonly tableName: string;
      readonly hashKeyField: string;
      /** An IoT substitution template such as `${topic(4)}`, as IoT reads it (not escaped for Terraform). */
      readonly hashKeyValue: string;
      readonly payloadField: string;
    })
  | (RoleAction & { readonly kind: "cloudwatch_logs"; readonly logGroupName: string })
  /** Lambda is invoked through the function's resource policy, not a role. */
  | { readonly kind: "lambda"; readonly functionName: string };

export interface TopicRuleSpec {
  /** Construct id of the rule in the `iot` stack. */
  readonly id: string;
  /** IoT rule name (`[a-zA-Z0-9_]`). */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  readonly actions: readonly TopicRuleAction[];
}

/** The topic rules and the error action every one of them shares. */
export interface TopicRules {
  readonly rules: readonly TopicRuleSpec[];
  /** Where IoT reports an action that failed. */
  readonly errorAction: Extract<TopicRuleAction, { kind: "cloudwatch_logs" }>;
}

/** Makes the topic rules of an environment; the `iot` and `roles` stacks take this as a prop. */
export type TopicRulesDefinition = (names: ProjectNames) => TopicRules;

const logsAction = (logGroupName: string): Extract<TopicRuleAction, { kind: "cloudwatch_logs" }> => ({
  kind: "cloudwatch_logs",
  logGroupName,
  role: "iot-rules",
  sid: "WriteIotLogs",
});

/** Log group purposes (`names.logGroup(...)`) of the rules' own log groups, which the `iot` stack creates. */
export const TOPIC_RULE_LOG_GROUPS = { ruleErrors: "iot/rule-errors", responses: "iot/responses" } as const;

/** The platform's device topic rules. */
export const deviceTopicRules: TopicRulesDefinition = (names) => {
  const thingLevel = thingNameTopicLevel(names.topicRoot);
  return {
    errorAction: logsAction(names.logGroup(TOPIC_RULE_LOG_GROUPS.ruleErrors)),
    rules: [
      {
        id: "device-errors-rule",
        name: names.iotRule("device_errors_to_alerts"),
        description: "Device errors to the alerts topic (e-mail, Slack)",
        sql: `SELECT *, topic(${thingLevel}) AS thingName FROM '${anyDeviceTopicFilter(names.topicRoot, "errors")}'`,
        // RAW: the subscribers (e-mail, the Slack formatter) take the device-error JSON as it is. "JSON"
        // would make SNS demand a top-level "default" key and refuse every publish (IoT API reference,
        // SnsAction.messageFormat; SNS Publish, MessageStructure).
        actions: [{ kind: "sns", topicName: names.alertsTopic, messageFormat: "RAW", role: "iot-alerts", sid: "PublishAlerts" }],
      },
      {
        id: "device-responses-rule",
        name: names.iotRule("device_responses"),
        description: "Device responses to CloudWatch Logs and the device table (last response)",
        sql: `SELECT *, topic(${thingLevel}) AS thingName, timestamp() AS receivedAt FROM '${anyDeviceTopicFilter(names.topicRoot, "responses")}'`,
        actions: [
          logsAction(names.logGroup(TOPIC_RULE_LOG_GROUPS.responses)),
          {
            kind: "dynamodb",
            tableName: names.deviceTable,
            hashKeyField: DEVICE_TABLE_KEY,
            hashKeyValue: `\${topic(${thingLevel})}`,
            payloadField: "lastResponse",
            role: "iot-rules",
            sid: "RecordLastResponse",
          },
        ],
      },
      {
        id: "presence-events-rule",
        name: names.iotRule("presence_events"),
        description: "Lifecycle events of project clients to the presence function",
        // Only project clients: claim certificates connect with other client ids while provisioning.
        // Only connects and disconnects: the same filter also receives connect_failed events
        // (docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html), which never change presence.
        sql: `SELECT * FROM '${LIFECYCLE_TOPIC_FILTER}' WHERE startswith(clientId, '${names.prefix}-') AND (eventType = 'connected' OR eventType = 'disconnected')`,
        actions: [{ kind: "lambda", functionName: names.lambdaFunction("device-presence") }],
      },
    ],
  };
};

/** An IAM statement a rule role needs, with resources as ARNs built by `arn(service, resource)`. */
export interface TopicRuleStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * The IAM statements each rule role needs for the actions it runs, one statement per `sid` (actions
 * sharing a sid must need the same permissions; their resources are merged). CloudWatch Logs actions
 * are granted on the project's log-group pattern, which every `names.logGroup()` group matches
 * (the three actions the IoT developer guide lists for the CloudWatch Logs rule action:
 * docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html).
 */
export function topicRuleRoleStatements(
  topicRules: TopicRules,
  names: ProjectNames,
  arn: (service: string, resource: string) => string,
): Record<TopicRuleRole, TopicRuleStatement[]> {
  const statements: Record<TopicRuleRole, TopicRuleStatement[]> = { "iot-alerts": [], "iot-rules": [] };
  const actions = [...topicRules.rules.flatMap((rule) => rule.actions), topicRules.errorAction];
  for (const action of actions) {
    if (action.kind === "lambda") continue;
    const statement = statementFor(action, names, arn);
    const existing = statements[action.role].findIndex((candidate) => candidate.sid === statement.sid);
    if (existing < 0) {
      statements[action.role].push(statement);
      continue;
    }
    const before = statements[action.role][existing]!;
    if (before.actions.join() !== statement.actions.join()) throw new Error(`topic rule statement ${statement.sid}: actions sharing a sid need the same permissions`);
    statements[action.role][existing] = { ...before, resources: [...new Set([...before.resources, ...statement.resources])] };
  }
  return statements;
}

function statementFor(action: Exclude<TopicRuleAction, { kind: "lambda" }>, names: ProjectNames, arn: (service: string, resource: string) => string): TopicRuleStatement {
  switch (action.kind) {
    case "sns":
      return { sid: action.sid, actions: ["sns:Publish"], resources: [arn("sns", action.topicName)] };
    case "dynamodb":
      return { sid: action.sid, actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [arn("dynamodb", `table/${action.tableName}`)] };
    case "cloudwatch_logs": {
      const projectGroups = names.logGroupPattern.slice(0, -1);
      if (!action.logGroupName.startsWith(projectGroups)) throw new Error(`topic rule log group ${action.logGroupName} is not under ${names.logGroupPattern}`);
      return { sid: action.sid, actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], resources: [arn("logs", `log-group:${names.logGroupPattern}`)] };
    }
  }
}
