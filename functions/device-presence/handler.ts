import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import * as z from "zod/mini";
import type { DevicePresenceSettings } from "../../contracts/function-environments";
import { lifecycleEventSchema } from "../../contracts/lifecycle-events";
import { publishAlert } from "../shared/alerts";
import { createLogger } from "../shared/runtime";
import { applyLifecycleEvent, checkStillOffline, type OfflineCheck, type PresenceDependencies } from "./presence";

export interface DevicePresenceClients {
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
}

/**
 * Device presence. Two event sources, one function:
 * - the lifecycle topic rule invokes it with a connected/disconnected event;
 * - the presence-check delay queue delivers the offline checks it queued, after the grace period.
 */
export function createDevicePresenceHandler(settings: DevicePresenceSettings, clients: DevicePresenceClients) {
  const logger = createLogger("device-presence");
  const deps: PresenceDependencies = {
    documents: clients.documents,
    tableName: settings.deviceTable,
    graceSeconds: settings.offlineGraceSeconds,
    logger,
    scheduleCheck: async (check, delaySeconds) => {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: settings.presenceCheckQueueUrl, MessageBody: JSON.stringify(check), DelaySeconds: delaySeconds }));
    },
    publishAlert: (alert) => publishAlert(clients.sns, settings.alertsTopicArn, alert),
  };

  async function runChecks(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      let check: OfflineCheck;
      try {
        check = offlineCheckSchema.parse(JSON.parse(record.body));
      } catch {
        logger.error("malformed offline check dropped", { messageId: record.messageId });
        continue;
      }
      try {
        await checkStillOffline(check, deps);
      } catch (error) {
        logger.error("offline check failed; SQS will retry it", { messageId: record.messageId, error: error as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  }

  return async function handler(event: unknown): Promise<SQSBatchResponse | void> {
    if (isSqsEvent(event)) return runChecks(event);
    const parsed = lifecycleEventSchema.safeParse(event);
    if (!parsed.success) {
      // Retrying cannot fix a malformed event: log it and drop it.
      logger.error("malformed lifecycle event dropped", { issues: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) });
      return;
    }
    await applyLifecycleEvent(parsed.data, deps);
  };
}

const offlineCheckSchema: z.ZodMiniType<OfflineCheck> = z.object({
  thingName: z.string().check(z.minLength(1)),
  eventOrder: z.int().check(z.gte(0)),
  disconnectedAt: z.int().check(z.gte(0)),
  disconnectReason: z.string(),
});

function isSqsEvent(event: unknown): event is SQSEvent {
  return Array.isArray((event as SQSEvent | undefined)?.Records) && (event as SQSEvent).Records.every((record) => record.eventSource === "aws:sqs");
}
