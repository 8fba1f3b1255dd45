import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { dailyCheckEnvironment } from "../../contracts/function-environments";
import { publishAlert } from "../shared/alerts";
import { devicePresence, type DeviceRecord } from "../../contracts/device-table";
import { createLogger, readEnvironment } from "../shared/runtime";
import { shouldSend, summarize } from "./summary";

/** Runs once a day (EventBridge schedule): one summary of devices offline or not seen for 24 h. */
const environment = readEnvironment(dailyCheckEnvironment);
const logger = createLogger("daily-check");
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const sns = new SNSClient({});

export async function handler(): Promise<{ sent: boolean; devices: number }> {
  const devices: DeviceRecord[] = [];
  for await (const page of paginateScan({ client: documents }, { TableName: environment.DEVICE_TABLE, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const device = devicePresence(item);
      if (device) devices.push(device);
    }
  }
  const summary = summarize(devices, Date.now());
  const sent = shouldSend(summary, environment.DAILY_DIGEST === "true");
  if (sent) await publishAlert(sns, environment.ALERTS_TOPIC_ARN, summary);
  logger.info("daily check done", { sent, ...summary.totals, notSeenFor24Hours: summary.notSeenFor24Hours.length, wentOffline: summary.wentOffline.length });
  return { sent, devices: devices.length };
}
