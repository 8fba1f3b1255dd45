import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { Alert } from "../../contracts/alerts";

/** One line a person reads first: the e-mail subject and the Slack headline. */
export function alertHeadline(alert: Alert): string {
  if (!("kind" in alert)) return `Device error on ${alert.thingName}: ${alert.code}`;
  if (alert.kind === "device-offline") return `Device offline: ${alert.thingName}`;
  return `Daily device check: ${alert.totals.offline} of ${alert.totals.devices} offline`;
}

/** The alert as text for people (e-mail body, Slack message). */
export function alertText(alert: Alert): string {
  const lines = [alertHeadline(alert)];
  if (!("kind" in alert)) {
    lines.push(alert.message, `at ${alert.at}${alert.commandId ? `, command ${alert.commandId}` : ""}`);
  } else if (alert.kind === "device-offline") {
    lines.push(`Disconnected at ${alert.disconnectedAt} (${alert.disconnectReason}) and still offline after ${alert.graceSeconds} s.`);
  } else {
    lines.push(`${alert.totals.online} online, ${alert.totals.offline} offline, ${alert.totals.devices} in all.`);
    for (const device of alert.wentOffline) lines.push(`- went offline: ${device.thingName} at ${device.disconnectedAt} (${device.reason})`);
    for (const device of alert.notSeenFor24Hours) lines.push(`- not seen for 24 h: ${device.thingName} (last seen ${device.lastSeenAt ?? "never"})`);
  }
  return lines.join("\n");
}

/**
 * Publishes an alert: JSON for machines (the Slack formatter), text for e-mail. SNS subjects are
 * at most 100 characters.
 */
export async function publishAlert(sns: SNSClient, topicArn: string, alert: Alert): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: alertHeadline(alert).slice(0, 100),
      MessageStructure: "json",
      Message: JSON.stringify({ default: JSON.stringify(alert), email: alertText(alert) }),
    }),
  );
}
