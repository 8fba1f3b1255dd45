import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsIotEndpoint } from "@cdktf/provider-aws/lib/data-aws-iot-endpoint";
import { IotTopicRule, type IotTopicRuleErrorAction } from "@cdktf/provider-aws/lib/iot-topic-rule";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { DEVICE_TABLE_KEY } from "../contracts/device-table";
import type { AlertFormatterEnvironment, DailyCheckEnvironment, DevicePresenceEnvironment } from "../contracts/function-environments";
import { controllerPolicyDocument, devicePolicyDocument } from "../contracts/iot-policies";
import { anyDeviceTopicFilter, LIFECYCLE_TOPIC_FILTER, thingNameTopicLevel } from "../contracts/topics";
import { AlertsTopic } from "../modules/alerts-topic";
import { AwsAccount } from "../modules/aws-account";
import { DelayQueue } from "../modules/delay-queue";
import { ProjectIotPolicy } from "../modules/iot-policy";
import { IotThingIdentity } from "../modules/iot-thing-identity";
import { NodejsFunction } from "../modules/nodejs-function";
import { ProjectStack } from "../modules/project-stack";
import { ProjectTable } from "../modules/project-table";
import { functionEntry } from "./functions";
import type { RolesStack } from "./roles";

const IOT_SQL_VERSION = "2016-03-23";

/**
 * AWS IoT Core for the controller and the devices: policies, the controller's identity, topic rules,
 * alerts, and offline detection from lifecycle events.
 */
export class IotStack extends ProjectStack<"iot"> {
  constructor(scope: Construct, config: EnvironmentConfig, dependencies: { roles: RolesStack }) {
    super(scope, "iot", { config });
    const roles = this.outputsOf(dependencies.roles);
    const account = new AwsAccount(this, "account", config.region);
    const names = this.names;
    const policyScope = { arnPrefix: account.arn("iot", ""), topicRoot: names.topicRoot };

    // --- Policies and the controller's identity ----------------------------------------------
    const endpoint = new DataAwsIotEndpoint(this, "ats-endpoint", { endpointType: "iot:Data-ATS" });
    const devicePolicy = new ProjectIotPolicy(this, "device-policy", {
      policyName: `${names.prefix}-device`,
      document: devicePolicyDocument(policyScope),
    });
    const controllerPolicy = new ProjectIotPolicy(this, "controller-policy", {
      policyName: `${names.prefix}-controller`,
      document: controllerPolicyDocument(policyScope, names.controllerThing),
    });
    const controller = new IotThingIdentity(this, "controller-identity", {
      thingName: names.controllerThing,
      policy: controllerPolicy,
      endpoint: endpoint.endpointAddress,
      secretName: names.controllerSecret,
      // Terraform refreshes the secret's value, so the plan and deploy roles read it too, and so does
      // an administrator refreshing the stack by hand, as the configured break-glass role.
      readerArns: [
        roles.controller_instance_role_arn,
        roles.github_plan_role_arn,
        roles.github_deploy_role_arn,
        ...(config.breakGlassAdminRoleArn ? [config.breakGlassAdminRoleArn] : []),
      ],
    });

    // --- Alerts and the device table ------------------------------------------------------------
    const alerts = new AlertsTopic(this, "alerts", { topicName: names.alertsTopic, emails: config.alerts.emails });
    const devices = new ProjectTable(this, "device-table", { tableName: names.deviceTable, partitionKey: DEVICE_TABLE_KEY });

    let slackWebhookSecretName = "";
    if (config.alerts.slack) {
      const webhook = new SecretsmanagerSecret(this, "slack-webhook", {
        name: names.slackWebhookSecret,
        description: "Slack incoming-webhook URL for alerts (put by an operator; never in config)",
        recoveryWindowInDays: 7,
      });
      slackWebhookSecretName = webhook.name;
      const formatter = new NodejsFunction(this, "alert-formatter", {
        functionName: names.lambdaFunction("alert-formatter"),
        roleName: names.role("alert-formatter"),
        entry: functionEntry("alert-formatter"),
        description: "Posts alerts from the alerts topic to Slack",
        environment: { SLACK_WEBHOOK_SECRET_ID: webhook.name } satisfies AlertFormatterEnvironment,
        logRetentionDays: config.logRetentionDays,
      });
      formatter.role.allow("read-slack-webhook", [
        { sid: "ReadSlackWebhook", actions: ["secretsmanager:GetSecretValue"], resources: [webhook.arn] },
      ]);
      alerts.subscribeFunction(formatter, account.accountId);
    }

    // --- Offline detection ------------------------------------------------------------------------
    // Lifecycle events can arrive late, twice or out of order, so a disconnect is only trusted after
    // a grace period: the presence function queues a check with an SQS message delay (up to 15
    // minutes, no extra service, retried and dead-lettered by SQS) rather than a one-time schedule.
    const presenceChecks = new DelayQueue(this, "presence-checks", { queueName: names.queue("presence-checks") });
    // IoT invokes the function asynchronously: an event that keeps failing is kept here, not lost.
    const failedPresenceEvents = new SqsQueue(this, "presence-events-dead-letters", {
      name: names.queue("presence-events-dead-letters"),
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    const presence = new NodejsFunction(this, "device-presence", {
      functionName: names.lambdaFunction("device-presence"),
      roleName: names.role("device-presence"),
      entry: functionEntry("device-presence"),
      description: "Records device connects/disconnects; alerts once when a device stays offline",
      environment: {
        DEVICE_TABLE: devices.tableName,
        ALERTS_TOPIC_ARN: alerts.topicArn,
        PRESENCE_CHECK_QUEUE_URL: presenceChecks.queueUrl,
        OFFLINE_GRACE_SECONDS: String(config.alerts.offlineGraceSeconds),
      } satisfies DevicePresenceEnvironment,
      logRetentionDays: config.logRetentionDays,
      deadLetterQueue: failedPresenceEvents,
    });
    devices.grantReadWriteData(presence.role);
    alerts.grantPublish(presence.role);
    presenceChecks.grantSend(presence.role);
    presenceChecks.addConsumer(presence);

    const dailyCheck = new NodejsFunction(this, "daily-check", {
      functionName: names.lambdaFunction("daily-check"),
      roleName: names.role("daily-check"),
      entry: functionEntry("daily-check"),
      description: "Daily summary of devices offline or not seen for 24 hours",
      environment: {
        DEVICE_TABLE: devices.tableName,
        ALERTS_TOPIC_ARN: alerts.topicArn,
        DAILY_DIGEST: String(config.alerts.dailyDigest) as "true" | "false",
      } satisfies DailyCheckEnvironment,
      logRetentionDays: config.logRetentionDays,
      timeoutSeconds: 60,
      // EventBridge invokes it asynchronously: a run that keeps failing is kept here, not lost.
      deadLetterQueue: new SqsQueue(this, "daily-check-dead-letters", {
        name: names.queue("daily-check-dead-letters"),
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 14 * 24 * 3600,
      }),
    });
    devices.grantReadData(dailyCheck.role);
    alerts.grantPublish(dailyCheck.role);
    const daily = new CloudwatchEventRule(this, "daily-check-schedule", {
      name: names.schedule("daily-check"),
      description: "Runs the daily device check",
      scheduleExpression: config.alerts.dailyCheckSchedule,
    });
    new CloudwatchEventTarget(this, "daily-check-target", { rule: daily.name, arn: dailyCheck.functionArn });
    dailyCheck.grantInvoke("schedule", { principal: "events.amazonaws.com", sourceArn: daily.arn, sourceAccount: account.accountId });

    // --- Topic rules ------------------------------------------------------------------------------
    const ruleErrors = new CloudwatchLogGroup(this, "rule-error-logs", {
      name: names.logGroup("iot/rule-errors"),
      retentionInDays: config.logRetentionDays,
    });
    const responseLogs = new CloudwatchLogGroup(this, "response-logs", {
      name: names.logGroup("iot/responses"),
      retentionInDays: config.logRetentionDays,
    });
    const errorAction: IotTopicRuleErrorAction = {
      cloudwatchLogs: { logGroupName: ruleErrors.name, roleArn: roles.iot_rules_role_arn },
    };
    const thingLevel = thingNameTopicLevel(names.topicRoot);

    new IotTopicRule(this, "device-errors-rule", {
      name: names.iotRule("device_errors_to_alerts"),
      description: "Device errors to the alerts topic (e-mail, Slack)",
      enabled: true,
      sqlVersion: IOT_SQL_VERSION,
      sql: `SELECT *, topic(${thingLevel}) AS thingName FROM '${anyDeviceTopicFilter(names.topicRoot, "errors")}'`,
      // RAW: the subscribers (e-mail, the Slack formatter) take the device-error JSON as it is. "JSON"
      // would make SNS demand a top-level "default" key and refuse every publish (IoT API reference,
      // SnsAction.messageFormat; SNS Publish, MessageStructure).
      sns: [{ targetArn: alerts.topicArn, roleArn: roles.iot_alerts_role_arn, messageFormat: "RAW" }],
      errorAction,
    });
    new IotTopicRule(this, "device-responses-rule", {
      name: names.iotRule("device_responses"),
      description: "Device responses to CloudWatch Logs and the device table (last response)",
      enabled: true,
      sqlVersion: IOT_SQL_VERSION,
      sql: `SELECT *, topic(${thingLevel}) AS thingName, timestamp() AS receivedAt FROM '${anyDeviceTopicFilter(names.topicRoot, "responses")}'`,
      cloudwatchLogs: [{ logGroupName: responseLogs.name, roleArn: roles.iot_rules_role_arn }],
      dynamodb: [
        {
          tableName: devices.tableName,
          hashKeyField: DEVICE_TABLE_KEY,
          hashKeyType: "STRING",
          // An IoT substitution template, escaped from Terraform's own interpolation.
          hashKeyValue: `$\${topic(${thingLevel})}`,
          operation: "UPDATE",
          payloadField: "lastResponse",
          roleArn: roles.iot_rules_role_arn,
        },
      ],
      errorAction,
    });
    const presenceRule = new IotTopicRule(this, "presence-events-rule", {
      name: names.iotRule("presence_events"),
      description: "Lifecycle events of project clients to the presence function",
      enabled: true,
      sqlVersion: IOT_SQL_VERSION,
      // Only project clients: claim certificates connect with other client ids while provisioning.
      // Only connects and disconnects: the same filter also receives connect_failed events
      // (docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html), which never change presence.
      sql: `SELECT * FROM '${LIFECYCLE_TOPIC_FILTER}' WHERE startswith(clientId, '${names.prefix}-') AND (eventType = 'connected' OR eventType = 'disconnected')`,
      lambda: [{ functionArn: presence.functionArn }],
      errorAction,
    });
    presence.grantInvoke("lifecycle-rule", { principal: "iot.amazonaws.com", sourceArn: presenceRule.arn, sourceAccount: account.accountId });

    this.exportOutputs({
      iot_data_endpoint: endpoint.endpointAddress,
      device_policy_name: devicePolicy.policyName,
      controller_thing_name: controller.thing.name,
      controller_secret_arn: controller.secretArn,
      alerts_topic_arn: alerts.topicArn,
      device_table_name: devices.tableName,
      slack_webhook_secret_name: slackWebhookSecretName,
    });
  }
}
