import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsIotEndpoint } from "@cdktf/provider-aws/lib/data-aws-iot-endpoint";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { DEVICE_TABLE_KEY } from "../contracts/device-table";
import { alertFormatterVariables, dailyCheckVariables, devicePresenceVariables } from "../contracts/function-environments";
import { controllerPolicyDocument, devicePolicyDocument, type IotPolicyDescription } from "../contracts/iot-policies";
import { deviceTopicRules, TOPIC_RULE_LOG_GROUPS, type TopicRules, type TopicRulesDefinition } from "../contracts/topic-rules";
import { AlertsTopic } from "../modules/alerts-topic";
import { AwsAccount } from "../modules/aws-account";
import { DelayQueue } from "../modules/delay-queue";
import { ProjectIotPolicy } from "../modules/iot-policy";
import { IotThingIdentity } from "../modules/iot-thing-identity";
import { ProjectStack } from "./project-stack";
import { ProjectTable, type TableKeySchema } from "../modules/project-table";
import { ProjectFunction } from "./functions";
import { TopicRuleResources } from "./topic-rules";
import type { RolesStack } from "./roles";

export interface IotStackOptions {
  /** The topic rules; give the `roles` stack the same definition. @default deviceTopicRules */
  readonly topicRules?: TopicRulesDefinition;
}

/**
 * AWS IoT Core for the controller and the devices: policies, the controller's identity, topic rules,
 * alerts, and offline detection from lifecycle events.
 */
export class IotStack extends ProjectStack<"iot"> {
  /** The SQS queue whose messages the presence function consumes (a delayed presence check), by name. */
  readonly presenceCheckQueueName: string;
  /** The tables this stack deploys, as data. */
  readonly tables: readonly TableKeySchema[];
  /** The IoT policies this stack deploys, as data. */
  readonly policies: { readonly device: IotPolicyDescription; readonly controller: IotPolicyDescription };
  /** The topic rules this stack deploys, as data (the local rules engine runs the same). */
  readonly topicRules: TopicRules;

  constructor(scope: Construct, config: EnvironmentConfig, dependencies: { roles: RolesStack }, options: IotStackOptions = {}) {
    super(scope, "iot", { config });
    const roles = this.outputsOf(dependencies.roles);
    const account = new AwsAccount(this, "account", config.region);
    const names = this.names;

    // --- Policies and the controller's identity ----------------------------------------------
    const endpoint = new DataAwsIotEndpoint(this, "ats-endpoint", { endpointType: "iot:Data-ATS" });
    this.policies = {
      device: { policyName: names.devicePolicy, document: (arnPrefix) => devicePolicyDocument({ arnPrefix, topicRoot: names.topicRoot }) },
      controller: {
        policyName: `${names.prefix}-controller`,
        document: (arnPrefix) => controllerPolicyDocument({ arnPrefix, topicRoot: names.topicRoot }, names.controllerThing),
      },
    };
    const iotArnPrefix = account.arn("iot", "");
    const devicePolicy = new ProjectIotPolicy(this, "device-policy", {
      policyName: this.policies.device.policyName,
      document: this.policies.device.document(iotArnPrefix),
    });
    const controllerPolicy = new ProjectIotPolicy(this, "controller-policy", {
      policyName: this.policies.controller.policyName,
      document: this.policies.controller.document(iotArnPrefix),
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
    this.tables = [devices.keySchema];

    let slackWebhookSecretName = "";
    if (config.alerts.slack) {
      const webhook = new SecretsmanagerSecret(this, "slack-webhook", {
        name: names.slackWebhookSecret,
        description: "Slack incoming-webhook URL for alerts (put by an operator; never in config)",
        recoveryWindowInDays: 7,
      });
      slackWebhookSecretName = webhook.name;
      const formatter = new ProjectFunction(this, "alert-formatter", {
        names,
        description: "Posts alerts from the alerts topic to Slack",
        environment: alertFormatterVariables({ slackWebhookSecretId: webhook.name }),
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
    this.presenceCheckQueueName = names.queue("presence-checks");
    const presenceChecks = new DelayQueue(this, "presence-checks", { queueName: this.presenceCheckQueueName });
    // IoT invokes the function asynchronously: an event that keeps failing is kept here, not lost.
    const failedPresenceEvents = new SqsQueue(this, "presence-events-dead-letters", {
      name: names.queue("presence-events-dead-letters"),
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    const presence = new ProjectFunction(this, "device-presence", {
      names,
      description: "Records device connects/disconnects; alerts once when a device stays offline",
      environment: devicePresenceVariables({
        deviceTable: devices.tableName,
        alertsTopicArn: alerts.topicArn,
        presenceCheckQueueUrl: presenceChecks.queueUrl,
        offlineGraceSeconds: config.alerts.offlineGraceSeconds,
      }),
      logRetentionDays: config.logRetentionDays,
      deadLetterQueue: failedPresenceEvents,
    });
    devices.grantReadWriteData(presence.role);
    alerts.grantPublish(presence.role);
    presenceChecks.grantSend(presence.role);
    presenceChecks.addConsumer(presence);

    const dailyCheck = new ProjectFunction(this, "daily-check", {
      names,
      description: "Daily summary of devices offline or not seen for 24 hours",
      environment: dailyCheckVariables({ deviceTable: devices.tableName, alertsTopicArn: alerts.topicArn, dailyDigest: config.alerts.dailyDigest }),
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

    // --- Topic rules ---------------------------------------------------------------------------
    const ruleErrors = new CloudwatchLogGroup(this, "rule-error-logs", {
      name: names.logGroup(TOPIC_RULE_LOG_GROUPS.ruleErrors),
      retentionInDays: config.logRetentionDays,
    });
    const responseLogs = new CloudwatchLogGroup(this, "response-logs", {
      name: names.logGroup(TOPIC_RULE_LOG_GROUPS.responses),
      retentionInDays: config.logRetentionDays,
    });
    this.topicRules = (options.topicRules ?? deviceTopicRules)(names);
    const rules = new TopicRuleResources(this, {
      topicRules: this.topicRules,
      roleArns: { "iot-alerts": roles.iot_alerts_role_arn, "iot-rules": roles.iot_rules_role_arn },
      // What this stack owns is referred to, so Terraform orders the rules after it; other names as they are.
      owned: {
        topics: { [names.alertsTopic]: alerts.topicArn },
        tables: { [names.deviceTable]: devices.tableName },
        logGroups: { [names.logGroup(TOPIC_RULE_LOG_GROUPS.ruleErrors)]: ruleErrors.name, [names.logGroup(TOPIC_RULE_LOG_GROUPS.responses)]: responseLogs.name },
        functions: { [names.lambdaFunction("device-presence")]: presence.functionArn },
      },
      arn: (service, resource) => account.arn(service, resource),
    });
    const presenceRule = rules.ruleInvoking(names.lambdaFunction("device-presence"));
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
