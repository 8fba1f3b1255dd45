import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SNSEvent } from "aws-lambda";
import { alertSchema } from "../../contracts/alerts";
import type { AlertFormatterSettings } from "../../contracts/function-environments";
import { alertText } from "../shared/alerts";
import { createLogger } from "../shared/runtime";

const WEBHOOK_TIMEOUT_MS = 5000;

/** Subscribed to the alerts topic: posts each alert to Slack through an incoming webhook. */
export function createAlertFormatterHandler(settings: AlertFormatterSettings, clients: { readonly secrets: SecretsManagerClient }) {
  const logger = createLogger("alert-formatter");
  let webhookUrl: Promise<string> | undefined;

  /** The webhook URL lives in Secrets Manager, never in config; read once per container. */
  function slackWebhookUrl(): Promise<string> {
    webhookUrl ??= clients.secrets.send(new GetSecretValueCommand({ SecretId: settings.slackWebhookSecretId })).then(({ SecretString }) => {
      const url = SecretString?.trim() ?? "";
      if (!URL.canParse(url) || !["https:", "http:"].includes(new URL(url).protocol)) {
        throw new Error(`secret ${settings.slackWebhookSecretId} does not hold a webhook URL; put it with aws secretsmanager put-secret-value`);
      }
      return url;
    });
    webhookUrl.catch(() => (webhookUrl = undefined));
    return webhookUrl;
  }

  return async function handler(event: SNSEvent): Promise<void> {
    const url = await slackWebhookUrl();
    for (const record of event.Records) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: slackText(record.Sns.Message) }),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      if (!response.ok) {
        // Throwing makes SNS retry the delivery.
        throw new Error(`Slack answered ${response.status} for message ${record.Sns.MessageId}`);
      }
      logger.info("alert posted to Slack", { messageId: record.Sns.MessageId });
    }
  };
}

/** Slack text for one SNS message: an alert we know, or the raw message for anything else. */
export function slackText(message: string): string {
  try {
    const alert = alertSchema.safeParse(JSON.parse(message));
    if (alert.success) return alertText(alert.data);
  } catch {
    // Not JSON: post it as it is.
  }
  return `Alert:\n${message}`;
}
