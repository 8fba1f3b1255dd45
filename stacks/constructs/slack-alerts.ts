import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";
import { alertFormatterVariables } from "../../contracts/function-environments";
import type { ProjectNames } from "../../contracts/names";
import type { AlertsTopic } from "../../modules/alerts-topic";
import type { AwsAccount } from "../../modules/aws-account";
import { ProjectFunction } from "../functions";

export interface SlackAlertsProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly alerts: AlertsTopic;
  readonly logRetentionDays: number;
}

/**
 * Alerts in Slack: the alert-formatter function, subscribed to the alerts topic, posts each message
 * to the incoming webhook whose URL an operator puts in the secret (never in config).
 */
export class SlackAlerts extends Construct {
  readonly webhookSecretName: string;

  constructor(scope: Construct, id: string, { names, account, alerts, logRetentionDays }: SlackAlertsProps) {
    super(scope, id);
    const webhook = new SecretsmanagerSecret(this, "slack-webhook", {
      name: names.slackWebhookSecret,
      description: "Slack incoming-webhook URL for alerts (put by an operator; never in config)",
      recoveryWindowInDays: 7,
    });
    this.webhookSecretName = webhook.name;
    const formatter = new ProjectFunction(this, "alert-formatter", {
      names,
      description: "Posts alerts from the alerts topic to Slack",
      environment: alertFormatterVariables({ slackWebhookSecretId: webhook.name }),
      logRetentionDays,
    });
    formatter.role.allow("read-slack-webhook", [{ sid: "ReadSlackWebhook", actions: ["secretsmanager:GetSecretValue"], resources: [webhook.arn] }]);
    alerts.subscribeFunction(formatter, account.accountId);
  }
}
