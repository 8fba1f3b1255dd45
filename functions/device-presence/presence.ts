import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { DeviceOfflineAlert } from "../../contracts/alerts";
import { devicePresence, type DeviceRecord } from "../../contracts/device-table";
import { unlessConditionFails } from "../shared/conditional-write";
import { eventOrder, type LifecycleEvent } from "../../contracts/lifecycle-events";

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
  const applied = await updateIf(deps, event.clientId, {
    update: [
      "SET connected = :connected, eventOrder = :order, lastEventAt = :at, sessionIdentifier = :session",
      connected ? "lastConnectedAt = :at" : "lastDisconnectedAt = :at, lastDisconnectReason = :reason",
    ].join(", "),
    condition:
      "attribute_not_exists(thingName) OR attribute_not_exists(eventOrder) OR lastEventAt < :newerThan OR (lastEventAt <= :notOlderThan AND eventOrder < :order)",
    values: {
      ":connected": connected,
      ":order": order,
      ":at": event.timestamp,
      ":session": event.sessionIdentifier,
      ":newerThan": event.timestamp - CLOCK_SKEW_MS,
      ":notOlderThan": event.timestamp + CLOCK_SKEW_MS,
      ...(connected ? {} : { ":reason": event.disconnectReason }),
    },
  });
  // Also for a duplicate: the first delivery may have failed before its check was queued.
  if (!connected) await scheduleOfflineCheckOnce(event, order, deps);
  deps.logger.info(applied ? "lifecycle event applied" : "lifecycle event ignored: a newer or identical event is recorded", {
    clientId: event.clientId,
    eventType: event.eventType,
    order,
  });
  return applied ? "applied" : "stale-or-duplicate";
}

async function scheduleOfflineCheckOnce(event: Extract<LifecycleEvent, { eventType: "disconnected" }>, order: number, deps: PresenceDependencies) {
  const record = await readDevice(deps, event.clientId);
  const isCurrent = record?.eventOrder === order && record.lastEventAt === event.timestamp && !record.connected;
  if (!isCurrent || record?.checkScheduledFor === order) return;
  await deps.scheduleCheck(
    { thingName: event.clientId, eventOrder: order, disconnectedAt: event.timestamp, disconnectReason: event.disconnectReason },
    deps.graceSeconds,
  );
  // If the device moved on meanwhile this does nothing, and the queued check will see it.
  await updateIf(deps, event.clientId, { update: "SET checkScheduledFor = :order", condition: "eventOrder = :order", values: { ":order": order } });
}

export type CheckOutcome = "alerted" | "back-online" | "already-alerted";

/**
 * Runs after the grace period: if the device is still in the disconnect that queued this check, marks
 * it alerted (once, by a conditional write) and sends the alert.
 */
export async function checkStillOffline(check: OfflineCheck, deps: PresenceDependencies): Promise<CheckOutcome> {
  const record = await readDevice(deps, check.thingName);
  if (!record || record.connected || record.eventOrder !== check.eventOrder) {
    deps.logger.info("device reconnected within the grace period", { thingName: check.thingName });
    return "back-online";
  }
  const marked = await updateIf(deps, check.thingName, {
    update: "SET offlineAlertedFor = :order",
    condition: "connected = :false AND eventOrder = :order AND (attribute_not_exists(offlineAlertedFor) OR offlineAlertedFor <> :order)",
    values: { ":order": check.eventOrder, ":false": false },
  });
  if (!marked) return "already-alerted";
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
    await updateIf(deps, check.thingName, { update: "REMOVE offlineAlertedFor", condition: "offlineAlertedFor = :order", values: { ":order": check.eventOrder } });
    throw error;
  }
  deps.logger.warn("device offline past the grace period: alert sent", { thingName: check.thingName });
  return "alerted";
}

async function readDevice(deps: PresenceDependencies, thingName: string): Promise<DeviceRecord | undefined> {
  const { Item } = await deps.documents.send(new GetCommand({ TableName: deps.tableName, Key: { thingName }, ConsistentRead: true }));
  return Item === undefined ? undefined : devicePresence(Item);
}

/** A conditional UpdateItem on one device; false when the condition does not hold. */
async function updateIf(
  deps: PresenceDependencies,
  thingName: string,
  { update, condition, values }: { update: string; condition: string; values: Record<string, unknown> },
): Promise<boolean> {
  const written = await unlessConditionFails(() =>
    deps.documents.send(
      new UpdateCommand({ TableName: deps.tableName, Key: { thingName }, UpdateExpression: update, ConditionExpression: condition, ExpressionAttributeValues: values }),
    ),
  );
  return written !== undefined;
}
