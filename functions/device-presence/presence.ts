import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { DeviceOfflineAlert } from "../../contracts/alerts";
import type { DeviceRecord } from "../../contracts/device-table";
import { isConditionFailure } from "../shared/runtime";
import { eventOrder, type LifecycleEvent } from "./lifecycle-event";

/**
 * Lifecycle timestamps are accurate to ±2 minutes: within this window the version decides which
 * event is newer, beyond it the timestamp does (the version resets after about an hour offline).
 */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What the delayed check receives, through the SQS delay queue. */
export interface OfflineCheck {
  thingName: string;
  eventOrder: number;
  disconnectedAt: number;
  disconnectReason: string;
}

export interface PresenceDependencies {
  documents: DynamoDBDocumentClient;
  tableName: string;
  graceSeconds: number;
  /** Queues an offline check to run after the grace period. */
  scheduleCheck(check: OfflineCheck, delaySeconds: number): Promise<void>;
  publishAlert(alert: DeviceOfflineAlert): Promise<void>;
  logger: Logger;
}

export type EventOutcome = "applied" | "stale-or-duplicate";

/**
 * Applies a lifecycle event to the device table unless a newer (or the same) event is already
 * there; a disconnect also queues its offline check. Safe to run twice for one event.
 */
export async function applyLifecycleEvent(event: LifecycleEvent, deps: PresenceDependencies): Promise<EventOutcome> {
  const order = eventOrder(event);
  const connected = event.eventType === "connected";
  try {
    await deps.documents.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { thingName: event.clientId },
        UpdateExpression: [
          "SET connected = :connected, eventOrder = :order, lastEventAt = :at, sessionIdentifier = :session",
          connected ? "lastConnectedAt = :at" : "lastDisconnectedAt = :at, lastDisconnectReason = :reason",
        ].join(", "),
        ConditionExpression:
          "attribute_not_exists(thingName) OR attribute_not_exists(eventOrder) OR lastEventAt < :newerThan OR (lastEventAt <= :notOlderThan AND eventOrder < :order)",
        ExpressionAttributeValues: {
          ":connected": connected,
          ":order": order,
          ":at": event.timestamp,
          ":session": event.sessionIdentifier,
          ":newerThan": event.timestamp - CLOCK_SKEW_MS,
          ":notOlderThan": event.timestamp + CLOCK_SKEW_MS,
          ...(connected ? {} : { ":reason": event.disconnectReason }),
        },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // A duplicate of the event already applied may arrive after a failed attempt to queue its check.
    if (!connected) await scheduleOfflineCheckOnce(event, order, deps);
    deps.logger.info("lifecycle event ignored: a newer or identical event is recorded", { clientId: event.clientId, eventType: event.eventType, order });
    return "stale-or-duplicate";
  }
  if (!connected) await scheduleOfflineCheckOnce(event, order, deps);
  deps.logger.info("lifecycle event applied", { clientId: event.clientId, eventType: event.eventType, order });
  return "applied";
}

async function scheduleOfflineCheckOnce(event: Extract<LifecycleEvent, { eventType: "disconnected" }>, order: number, deps: PresenceDependencies) {
  const { Item } = await deps.documents.send(new GetCommand({ TableName: deps.tableName, Key: { thingName: event.clientId }, ConsistentRead: true }));
  const record = Item as DeviceRecord | undefined;
  const isCurrent = record?.eventOrder === order && record.lastEventAt === event.timestamp && !record.connected;
  if (!isCurrent || record?.checkScheduledFor === order) return;
  await deps.scheduleCheck(
    { thingName: event.clientId, eventOrder: order, disconnectedAt: event.timestamp, disconnectReason: event.disconnectReason },
    deps.graceSeconds,
  );
  try {
    await deps.documents.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { thingName: event.clientId },
        UpdateExpression: "SET checkScheduledFor = :order",
        ConditionExpression: "eventOrder = :order",
        ExpressionAttributeValues: { ":order": order },
      }),
    );
  } catch (error) {
    // The device moved on meanwhile; the queued check will see that and do nothing.
    if (!isConditionFailure(error)) throw error;
  }
}

export type CheckOutcome = "alerted" | "back-online" | "already-alerted";

/**
 * Runs after the grace period: if the device is still in the disconnect that queued this check, marks
 * it alerted (once, by a conditional write) and sends the alert.
 */
export async function checkStillOffline(check: OfflineCheck, deps: PresenceDependencies): Promise<CheckOutcome> {
  const { Item } = await deps.documents.send(new GetCommand({ TableName: deps.tableName, Key: { thingName: check.thingName }, ConsistentRead: true }));
  const record = Item as DeviceRecord | undefined;
  if (!record || record.connected || record.eventOrder !== check.eventOrder) {
    deps.logger.info("device reconnected within the grace period", { thingName: check.thingName });
    return "back-online";
  }
  try {
    await deps.documents.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { thingName: check.thingName },
        UpdateExpression: "SET offlineAlertedFor = :order",
        ConditionExpression: "connected = :false AND eventOrder = :order AND (attribute_not_exists(offlineAlertedFor) OR offlineAlertedFor <> :order)",
        ExpressionAttributeValues: { ":order": check.eventOrder, ":false": false },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return "already-alerted";
  }
  try {
    await deps.publishAlert({
      kind: "device-offline",
      thingName: check.thingName,
      disconnectedAt: new Date(check.disconnectedAt).toISOString(),
      disconnectReason: check.disconnectReason,
      graceSeconds: deps.graceSeconds,
    });
  } catch (error) {
    // Undo the mark so the retried message alerts: an alert is never silently lost.
    await deps.documents.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { thingName: check.thingName },
        UpdateExpression: "REMOVE offlineAlertedFor",
        ConditionExpression: "offlineAlertedFor = :order",
        ExpressionAttributeValues: { ":order": check.eventOrder },
      }),
    );
    throw error;
  }
  deps.logger.warn("device offline past the grace period: alert sent", { thingName: check.thingName });
  return "alerted";
}
