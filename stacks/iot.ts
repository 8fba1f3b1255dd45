import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { DEVICE_TABLE_KEY } from "../contracts/device-table";
import type { IotPolicyDescription } from "../contracts/iot-policies";
import { deviceTopicRules, type TopicRules, type TopicRulesDefinition } from "../contracts/topic-rules";
import { AlertsTopic } from "../modules/alerts-topic";
import { AwsAccount } from "../modules/aws-account";
import { ProjectTable, type TableKeySchema } from "../modules/project-table";
import { DailyDeviceCheck } from "./constructs/daily-device-check";
import { DeviceTopicRules } from "./constructs/device-topic-rules";
import { IotIdentities } from "./constructs/iot-identities";
import { OfflineDetection } from "./constructs/offline-detection";
import { SlackAlerts } from "./constructs/slack-alerts";
import { ProjectStack } from "./project-stack";
import type { RolesStack } from "./roles";

export interface IotStackOptions {
  /** The topic rules; give the `roles` stack the same definition. @default deviceTopicRules */
  readonly topicRules?: TopicRulesDefinition;
}

/**
 * AWS IoT Core for the controller and the devices: identities and policies, the device table, alerts
 * (e-mail, optionally Slack), offline detection from lifecycle events, the daily check, and the
 * device topic rules.
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
    const logRetentionDays = config.logRetentionDays;

    const identities = new IotIdentities(this, "identities", {
      names,
      account,
      // Terraform refreshes the secret's value, so the plan and deploy roles read it too, and so does
      // an administrator refreshing the stack by hand, as the configured break-glass role.
      controllerSecretReaderArns: [
        roles.controller_instance_role_arn,
        roles.github_plan_role_arn,
        roles.github_deploy_role_arn,
        ...(config.breakGlassAdminRoleArn ? [config.breakGlassAdminRoleArn] : []),
      ],
    });
    this.moveIntoWrapper(identities);
    this.policies = identities.policies;

    const alerts = new AlertsTopic(this, "alerts", { topicName: names.alertsTopic, emails: config.alerts.emails });
    const devices = new ProjectTable(this, "device-table", { tableName: names.deviceTable, partitionKey: DEVICE_TABLE_KEY });
    this.tables = [devices.keySchema];
    const slack = config.alerts.slack ? new SlackAlerts(this, "slack-alerts", { names, account, alerts, logRetentionDays }) : undefined;
    if (slack) this.moveIntoWrapper(slack);

    const offlineDetection = new OfflineDetection(this, "offline-detection", {
      names,
      account,
      devices,
      alerts,
      offlineGraceSeconds: config.alerts.offlineGraceSeconds,
      logRetentionDays,
    });
    this.presenceCheckQueueName = offlineDetection.presenceCheckQueueName;

    const dailyCheck = new DailyDeviceCheck(this, "daily-device-check", {
      names,
      account,
      devices,
      alerts,
      schedule: config.alerts.dailyCheckSchedule,
      dailyDigest: config.alerts.dailyDigest,
      logRetentionDays,
    });
    this.moveIntoWrapper(dailyCheck);

    this.topicRules = (options.topicRules ?? deviceTopicRules)(names);
    const presenceFunction = offlineDetection.presenceFunction;
    const presenceFunctionName = names.lambdaFunction(presenceFunction.node.id);
    const rules = new DeviceTopicRules(this, "device-topic-rules", {
      names,
      account,
      topicRules: this.topicRules,
      roleArns: { "iot-alerts": roles.iot_alerts_role_arn, "iot-rules": roles.iot_rules_role_arn },
      // What this stack owns is referred to, so Terraform orders the rules after it; other names as they are.
      owned: {
        topics: { [names.alertsTopic]: alerts.topicArn },
        tables: { [names.deviceTable]: devices.tableName },
        functions: { [presenceFunctionName]: presenceFunction.functionArn },
      },
      logRetentionDays,
    });
    this.moveIntoWrapper(rules);
    offlineDetection.allowInvokeByRule(rules.ruleInvoking(presenceFunctionName));
    // After allowInvokeByRule: the permission it adds is one of the resources that move.
    this.moveIntoWrapper(offlineDetection);

    this.exportOutputs({
      iot_data_endpoint: identities.endpointAddress,
      device_policy_name: identities.devicePolicy.policyName,
      controller_thing_name: identities.controller.thing.name,
      controller_secret_arn: identities.controller.secretArn,
      alerts_topic_arn: alerts.topicArn,
      device_table_name: devices.tableName,
      slack_webhook_secret_name: slack?.webhookSecretName ?? "",
    });
  }
}
