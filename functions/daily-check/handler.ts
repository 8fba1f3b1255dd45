import type { SNSClient } from "@aws-sdk/client-sns";
import { paginateScan, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { devicePresence, type DeviceRecord } from "../../contracts/device-table";
import type { DailyCheckSettings } from "../../contracts/function-environments";
import { publishAlert } from "../shared/alerts";
import { createLogger } from "../shared/runtime";
import { shouldSend, summarize } from "./summary";

export interface DailyCheckClients {
  readonly documents: DynamoDBDocumentClient;
  readonly sns: SNSClient;
}

/** Runs once a day (EventBridge schedule): one summary of devices offline or not seen for 24 h. */
export function createDailyCheckHandler(settings: DailyCheckSettings, clients: DailyCheckClients) {
  const logger = createLogger("daily-check");
  return async function handler(): Promise<{ sent: boolean; devices: number }> {
    const devices: DeviceRecord[] = [];
    for await (const page of paginateScan({ client: clients.documents }, { TableName: settings.deviceTable, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        const device = devicePresence(item);
        if (device) devices.push(device);
      }
    }
    const summary = summarize(devices, Date.now());
    const sent = shouldSend(summary, settings.dailyDigest);
    if (sent) await publishAlert(clients.sns, settings.alertsTopicArn, summary);
    logger.info("daily check done", { sent, ...summary.totals, notSeenFor24Hours: summary.notSeenFor24Hours.length, wentOffline: summary.wentOffline.length });
    return { sent, devices: devices.length };
  };
}
